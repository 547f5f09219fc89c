"""What the Dagster stages do on the spark target (BAROMETRE_TARGET=spark), one home:

- ingestion (ingest/assets.py), after each edition it loads: the raw schema exported as
  Parquet into the work folder (raw_parquet.py), as it copies the raw rows to the server
  on postgres; the row contract, quarantine and load log stay DuckDB's;
- the dbt step (transform/dbt_assets.py): the export written again first when it no
  longer matches the warehouse's load log, then `dbt build --target spark` as a child
  process (dagster-dbt), whose session settings come from the profile (session.py) and
  which registers the raw tables in the catalog when it starts;
- what does not build on Spark yet (NOT_YET_ON_SPARK) is left out of the dbt build
  (`--exclude`), of publishing's dependencies (publish/asset.py) and of the `transform`
  job with its great-expectations checks and the report, which reads those marts
  (transform/runs.py), so that nothing waits for marts never built;
- the great-expectations suites and publishing read the Spark tables through a DuckDB
  file of views and copies (output.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from barometre.common.settings import Settings
from barometre.engines.spark.build import NOT_YET_ON_SPARK
from barometre.engines.spark.session import RAW_PARQUET

REPORT_KEY = ("barometre_report",)
"""The HTML report reads every mart (serve/report/queries.py): left out with them."""
MART_SCHEMAS = ("marts", "restricted")


def raw_dir(settings: Settings) -> Path:
    return settings.spark_dir / RAW_PARQUET


def export_raw(settings: Settings) -> dict[str, int]:
    """The warehouse's raw schema as Parquet for Spark (after an ingestion)."""
    from barometre.engines.spark.raw_parquet import export_raw_parquet

    return export_raw_parquet(settings.warehouse, raw_dir(settings))


def export_raw_if_stale(settings: Settings) -> dict[str, int] | None:
    """The export written again when it does not match the warehouse (before dbt)."""
    from barometre.engines.spark.raw_parquet import export_if_stale

    return export_if_stale(settings.warehouse, raw_dir(settings))


def write_output(settings: Settings) -> Path:
    """The Spark tables as a DuckDB file laid out like the warehouse (output.py)."""
    from barometre.engines.spark.output import write_output as write

    return write(settings.spark_dir, settings.dbt_manifest, raw_dir(settings))


def publication_source(settings: Settings, say: Callable[[str], None]) -> Path:
    """What publishing copies on the spark target (the file of write_output), after
    saying which marts are not built on Spark yet; PublishError when nothing was built."""
    from barometre.engines.spark.output import SparkOutputError
    from barometre.publish.publication import PublishError

    note = not_yet_note()
    if note:
        say(note)
    try:
        return write_output(settings)
    except SparkOutputError as err:
        raise PublishError(str(err)) from None


def not_yet_keys() -> set:  # -> set[dagster.AssetKey]
    """The dbt assets that do not build on Spark yet (empty once NOT_YET_ON_SPARK is)."""
    if not NOT_YET_ON_SPARK:
        return set()
    from dagster_dbt import build_dbt_asset_selection

    from barometre.transform.dbt_assets import DBT_ASSETS

    return set(
        build_dbt_asset_selection(DBT_ASSETS, dbt_select=NOT_YET_ON_SPARK).resolve(DBT_ASSETS)
    )


def not_yet_selection():  # -> dagster.AssetSelection | None
    """What the `transform` job leaves out on Spark: the great-expectations checks of the
    assets that do not build there yet, and the report, which reads those marts; None
    once everything builds. The dbt step itself stays whole (dbt leaves the nodes out,
    `--exclude`): a subset of more than 200 dbt nodes would make dagster-dbt run dbt in
    a temporary copy of dbt_project/, without the ../models and ../seeds it reads."""
    keys = not_yet_keys()
    if not keys:
        return None
    from dagster import AssetKey, AssetSelection

    from barometre.validate.checks import QUALITY_CHECKS

    checks = [
        check_key
        for checks_def in QUALITY_CHECKS
        for check_key in checks_def.check_keys
        if check_key.asset_key in keys
    ]
    return AssetSelection.checks(*checks) | AssetSelection.assets(AssetKey(list(REPORT_KEY)))


def not_yet_marts() -> list[str]:
    """`schema.table` of the marts that do not build on Spark yet."""
    return sorted(".".join(k.path[-2:]) for k in not_yet_keys() if k.path[0] in MART_SCHEMAS)


def not_yet_note() -> str | None:
    """What a Spark run leaves out, in words (None when nothing is)."""
    marts = not_yet_marts()
    if not marts:
        return None
    return (
        f"Not built on Spark yet: {', '.join(marts)} (the linked-cell suppression, dbt "
        f"selector {NOT_YET_ON_SPARK}, docs/scaling.md): not published, and the HTML "
        "report, which reads them, not built (the DuckDB and PostgreSQL targets build both)"
    )
