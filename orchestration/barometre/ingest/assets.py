"""Ingestion assets: each edition's export files into the raw schema (one partition per edition)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    DynamicPartitionsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from barometre.common.resources import WarehouseResource
from barometre.common.writer_lock import dagster_writer
from barometre.ingest.errors import IngestError

edition_partitions = DynamicPartitionsDefinition(name="edition")

SURVEY_EXPORTS = AssetKey("survey_exports")
RAW_TABLES = ("responses", "answers", "quarantine", "load_log")

survey_exports = AssetSpec(
    SURVEY_EXPORTS,
    description="Raw survey exports (CSV/XLSX) and manifest of each edition, as the survey "
    "tool wrote them, under BAROMETRE_DATA_DIR/<edition>/.",
    group_name="sources",
    partitions_def=edition_partitions,
)

_DESCRIPTIONS = {
    "responses": "One kept response per collectivity and edition (SIREN resolved).",
    "answers": "Answers in long form: edition × response × question, decoded to a level.",
    "quarantine": "Rows read but not loaded, with the check and a reason in plain words.",
    "load_log": "Per file and load: content hash and rows read = loaded + quarantined.",
}


@multi_asset(
    name="raw_edition",
    specs=[
        AssetSpec(
            AssetKey(["raw", table]),
            deps=[SURVEY_EXPORTS],
            group_name="ingestion",
            description=_DESCRIPTIONS[table],
            kinds={"duckdb", "python"},
        )
        for table in RAW_TABLES
    ],
    partitions_def=edition_partitions,
    check_specs=[
        AssetCheckSpec(
            "rows_reconcile",
            asset=AssetKey(["raw", "load_log"]),
            blocking=True,
            description="Per file: rows read = rows loaded + rows quarantined.",
        ),
        AssetCheckSpec(
            "row_contract",
            asset=AssetKey(["raw", "answers"]),
            blocking=True,
            description="The loaded rows hold to the pandera row contract and "
            "every kept response has one answer per question of the edition.",
        ),
        AssetCheckSpec(
            "no_contract_quarantine",
            asset=AssetKey(["raw", "quarantine"]),
            description="Warns when rows were quarantined for breaking the "
            "contract (documented rules — incomplete, duplicates — do not count).",
        ),
    ],
)
def raw_edition(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[MaterializeResult | AssetCheckResult]:
    """Read one edition folder through its manifest and replace that edition in schema raw.

    Holds the warehouse writer lock throughout. File names stay in the working file: the
    metadata (Dagster's run storage) shows neutral labels and content hashes only."""
    edition = context.partition_key
    folder = warehouse.data_path() / edition
    with dagster_writer(context, warehouse.warehouse_path()):
        yield from _load_and_check(context, warehouse, edition, folder)


def _load_and_check(
    context: AssetExecutionContext, warehouse: WarehouseResource, edition: str, folder: Path
) -> Iterator[MaterializeResult | AssetCheckResult]:
    # Imported here: loading the code location must not pay for duckdb, pandas or pandera.
    from barometre.ingest.load import load_edition
    from barometre.ingest.personal import file_label
    from barometre.ingest.verify import verify_reconciliation, verify_row_contract

    try:
        load = load_edition(
            folder,
            warehouse.warehouse_path(),
            warehouse.seeds_path(),
            max_bad_share=warehouse.bad_share_limit(),
        )
    except IngestError as err:
        stored = _as_stored(err, edition, folder)
        raise Failure(description=stored.render(), allow_retries=False) from None
    context.log.info(
        f"edition {edition}: {load.respondents} respondents, {load.answers} answers, "
        f"{load.rows_quarantined} row(s) quarantined"
    )
    _push_to_server(context, warehouse, edition)
    # load.files is ordered by file name, as raw.load_log is: position = neutral label.
    labels = {f.source_file: file_label(edition, i) for i, f in enumerate(load.files, 1)}
    files = {
        labels[f.source_file]: {
            "content_sha256": f.content_sha256,
            "rows": f"{f.rows_read} read = {f.rows_loaded} loaded + "
            f"{f.rows_quarantined} quarantined",
        }
        for f in load.files
    }
    common: dict[str, Any] = {
        "edition": edition,
        "layout": load.layout,
        "files": MetadataValue.json(files),
    }
    yield MaterializeResult(
        asset_key=AssetKey(["raw", "responses"]),
        metadata={**common, "respondents": load.respondents},
    )
    yield MaterializeResult(
        asset_key=AssetKey(["raw", "answers"]),
        metadata={
            **common,
            "answers": load.answers,
            "answer_states": MetadataValue.json(load.answer_states),
        },
    )
    yield MaterializeResult(
        asset_key=AssetKey(["raw", "quarantine"]),
        metadata={
            **common,
            "rows_quarantined": load.rows_quarantined,
            "checks": MetadataValue.json(load.quarantine_checks),
        },
    )
    yield MaterializeResult(
        asset_key=AssetKey(["raw", "load_log"]), metadata={**common, "rows_read": load.rows_read}
    )

    reconcile = verify_reconciliation(warehouse.warehouse_path(), edition)
    yield AssetCheckResult(
        asset_key=AssetKey(["raw", "load_log"]),
        check_name="rows_reconcile",
        passed=reconcile.passed,
        metadata={
            "files": MetadataValue.json(
                {labels.get(name, "unknown file"): v for name, v in reconcile.details.items()}
            )
        },
    )
    contract = verify_row_contract(warehouse.warehouse_path(), warehouse.seeds_path(), edition)
    yield AssetCheckResult(
        asset_key=AssetKey(["raw", "answers"]),
        check_name="row_contract",
        passed=contract.passed,
        metadata={"result": MetadataValue.json(contract.details)},
    )
    documented = {"incomplete_response", "duplicate_submission"}
    broken = {k: v for k, v in load.quarantine_checks.items() if k not in documented}
    yield AssetCheckResult(
        asset_key=AssetKey(["raw", "quarantine"]),
        check_name="no_contract_quarantine",
        passed=not broken,
        severity=AssetCheckSeverity.WARN,
        metadata={"by_check": MetadataValue.json(load.quarantine_checks)},
    )


def _push_to_server(
    context: AssetExecutionContext, warehouse: WarehouseResource, edition: str
) -> None:
    """PostgreSQL target: copy the edition's raw rows just loaded to the server, in one
    transaction (barometre.engines.postgres.raw); the DuckDB file is the ingestion's staging."""
    from barometre.common.settings import get_settings

    settings = get_settings()
    if settings.target == "spark":
        _export_for_spark(context, settings, edition)
    if settings.target != "postgres":
        return
    import psycopg

    from barometre.engines.postgres.connection import ServerError
    from barometre.engines.postgres.raw import push_edition

    try:
        pushed = push_edition(warehouse.warehouse_path(), edition, settings.pg_dsn)
    except ServerError as err:
        raise Failure(description=str(err), allow_retries=False) from None
    except psycopg.Error as err:  # the copy was rolled back: the server is as it was
        raise Failure(
            description=f"copying edition {edition} to the server failed "
            f"({type(err).__name__}: {str(err).strip().splitlines()[0]}); the server keeps "
            "the edition's previous raw rows",
            allow_retries=False,
        ) from None
    context.log.info(f"edition {edition}: raw rows copied to the server {pushed.rows}")


def _export_for_spark(context: AssetExecutionContext, settings: Any, edition: str) -> None:
    """Spark target: the raw schema just loaded written as Parquet for Spark's dbt build
    (barometre.engines.spark.pipeline); the DuckDB file is the ingestion's staging."""
    from barometre.engines.spark.pipeline import export_raw

    try:
        rows = export_raw(settings)
    except (OSError, ValueError) as err:  # the previous export is kept whole
        raise Failure(
            description=f"edition {edition} is loaded, but writing the raw tables as Parquet "
            f"for Spark failed ({err}); the next dbt step on Spark writes them again",
            allow_retries=False,
        ) from None
    context.log.info(f"edition {edition}: raw tables written as Parquet for Spark {rows}")


def _as_stored(err: IngestError, edition: str, folder: Path) -> IngestError:
    """The error as Dagster's run storage keeps it: an export file under its neutral label
    and a personal-looking value masked (issue: no personal data at rest). `barometre
    validate` on the folder names the file and shows the cell, in the terminal only."""
    from barometre.ingest.manifest import load_manifest
    from barometre.ingest.personal import file_label, mask_value

    file = err.file
    inside = file is not None and Path(file).resolve().is_relative_to(folder.resolve())
    if file is not None and inside and Path(file).name != "manifest.yml":
        try:  # numbered by file name, as raw.load_log and published.json number them
            paths = sorted(load_manifest(folder).file_paths(), key=lambda p: p.name)
        except IngestError:
            paths = []
        found = [i for i, p in enumerate(paths, 1) if p.resolve() == Path(file).resolve()]
        file = file_label(edition, found[0]) if found else f"{edition}/export"
    stored = err.redacted(file, mask_value(err.value))
    if stored.file != err.file or stored.value != err.value:
        stored.hint = (
            f"{stored.hint or ''} (the run history withholds export file names and "
            f"personal-looking values: `barometre validate {folder}` shows them)"
        ).strip()
    return stored
