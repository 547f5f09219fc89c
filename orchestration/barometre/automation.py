"""Automation: publishing as an asset, the raw-folder sensor, the weekly schedule.

- `published_warehouse` (asset): publishes the marts and reference lookups of the
  working warehouse (barometre.publish.publication). It depends on what it publishes (the marts
  and the reference lookups, not restricted/*), so in the `transform` job it runs only
  when the dbt steps succeeded (every dbt test of severity error passed) and every
  blocking asset check upstream of those passed; otherwise it is skipped and the
  previous publication stays in place.
- `transform_job`: dbt build + publish. Replaces the plain dbt `transform` job.
- `raw_exports_sensor`: watches BAROMETRE_DATA_DIR. A new edition folder becomes a
  new `edition` partition; a new or changed export (content hash of the manifest and
  the files it lists) requests an `ingest_edition` run of that edition; an unchanged
  folder requests nothing.
- `refresh_marts_after_ingest`: after any successful `ingest_edition` run, requests a
  `transform` run, so that the cross-edition marts are rebuilt and published.
- `weekly_refresh`: cron BAROMETRE_SCHEDULE_CRON (default Monday 06:00,
  Europe/Paris): an `ingest_edition` run for every edition (then the transform above).

The sensors and the schedule are RUNNING by default in the Dagster UI (`dagster dev`
starts the daemon that evaluates them). Tests never start a daemon, so they never
fire there; tests call their functions directly.
"""

import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Failure,
    MaterializeResult,
    MetadataValue,
    RunRequest,
    RunsFilter,
    RunStatusSensorContext,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    asset,
    define_asset_job,
    run_status_sensor,
    schedule,
    sensor,
)

from barometre.common.resources import WarehouseResource
from barometre.common.settings import get_settings
from barometre.common.writer_lock import dagster_writer
from barometre.ingest.assets import edition_partitions
from barometre.ingest.editions import discover_editions
from barometre.ingest.manifest import MANIFEST_NAME, listed_export_paths
from barometre.publish.publication import (
    MARTS_SCHEMA,
    PUBLISHED_REFERENCE_TABLES,
    REFERENCE_SCHEMA,
    PublishError,
    publish,
)
from barometre.transform.dbt_assets import DBT_ASSET_KEYS, DBT_ASSETS

INGEST_JOB = "ingest_edition"
TRANSFORM_JOB = "transform"
WAREHOUSE_TAG = "barometre/warehouse"
"""Tag of every run that writes the working warehouse (one writer at a time: see
docs/operations.md, `concurrency` in DAGSTER_HOME/dagster.yaml)."""
WRITER_TAGS = {WAREHOUSE_TAG: "writer"}

ENV_SCHEDULE_CRON = "BAROMETRE_SCHEDULE_CRON"
DEFAULT_SCHEDULE_CRON = "0 6 * * 1"
SCHEDULE_TIMEZONE = "Europe/Paris"
ENV_SENSOR_SETTLE = "BAROMETRE_SENSOR_SETTLE_SECONDS"
DEFAULT_SENSOR_SETTLE = 10.0
"""A folder whose files changed less than this many seconds ago is still being copied:
the sensor waits for the next tick."""
SENSOR_INTERVAL = 30

_CHUNK = 1 << 20

# --------------------------------------------------------------------------- publishing

PUBLISHED_CONTENT = sorted(
    (
        k
        for k in DBT_ASSET_KEYS
        if k.path[0] == MARTS_SCHEMA
        or (k.path[0] == REFERENCE_SCHEMA and k.path[-1] in PUBLISHED_REFERENCE_TABLES)
    ),
    key=lambda k: k.to_user_string(),
)
"""The dbt assets the published file holds: the marts and the published reference seeds."""

PUBLISHED_DEPS = PUBLISHED_CONTENT
"""What publishing reads, and only that: the lineage in the Dagster UI shows where the
published file comes from (never restricted/*). In a run it still waits for the whole
dbt step of the marts (one op builds marts and restricted), so a failed dbt test of
severity error, or a failed blocking check on any of its upstream assets, skips it."""


@asset(
    key=AssetKey("published_warehouse"),
    deps=PUBLISHED_DEPS,
    group_name="publishing",
    kinds={"duckdb", "parquet"},
    description="Read-only copy of the marts (and reference lookups) for BI tools: "
    "BAROMETRE_PUBLISHED_DIR/barometre.duckdb (DuckDB 1.4+ clients) and Parquet files, "
    "replaced atomically. Built only when every blocking dbt test passed.",
)
def published_warehouse(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    settings = get_settings()
    if settings.target == "postgres":
        return _publish_on_server(context, warehouse, settings.pg_dsn)
    published_dir = settings.published_dir
    try:
        with dagster_writer(context, warehouse.warehouse_path()):
            version = publish(
                warehouse.warehouse_path(),
                published_dir,
                run_id=context.run.run_id,
                say=context.log.info,
            )
    except PublishError as err:
        raise Failure(description=f"publishing failed: {err}", allow_retries=False) from None
    return MaterializeResult(
        metadata={
            "version": version.version,
            "published_at": version.published_at,
            "path": MetadataValue.path(str(version.path)),
            "parquet_dir": MetadataValue.path(str(version.directory / "parquet")),
            "storage_version": version.storage_version,
            "marts": len(version.marts),
            "row_counts": MetadataValue.json(version.tables),
        }
    )


def _publish_on_server(
    context: AssetExecutionContext, warehouse: WarehouseResource, dsn: str
) -> MaterializeResult:
    """PostgreSQL target: swap the marts built in marts_build into marts, in one
    transaction, and grant bi_reader read access (barometre.engines.postgres.publish)."""
    from barometre.engines.postgres.connection import ServerError
    from barometre.engines.postgres.publish import ServerPublishError, publish_marts

    try:
        with dagster_writer(context, warehouse.warehouse_path()):
            published = publish_marts(dsn, run_id=context.run.run_id)
    except (ServerError, ServerPublishError) as err:
        raise Failure(description=f"publishing failed: {err}", allow_retries=False) from None
    context.log.info(f"marts published on {published.server}, schema marts")
    return MaterializeResult(
        metadata={
            "server": published.server,
            "schema": "marts",
            "published_at": published.published_at,
            "marts": len(published.tables),
            "row_counts": MetadataValue.json(published.tables),
        }
    )


TRANSFORM_SELECTION = (
    AssetSelection.assets(*DBT_ASSETS)
    # every dbt test, the source tests on the raw tables included: they run once, in
    # this build, not after each edition's ingestion
    | AssetSelection.checks(*DBT_ASSETS)
    # .downstream(): what is built from the publication (the HTML report) is refreshed with it
    | AssetSelection.assets(published_warehouse).downstream()
)

transform_job = define_asset_job(
    TRANSFORM_JOB,
    selection=TRANSFORM_SELECTION,
    description="dbt build (seeds, staging, core, marts and their tests), then publish "
    "the marts for BI, only if every blocking test passed.",
    run_tags=WRITER_TAGS,
)

# --------------------------------------------------------------------------- raw folder


@dataclass(frozen=True)
class EditionState:
    """What the sensor sees of one edition folder."""

    edition: str
    fingerprint: str | None
    """sha256 of the manifest and the files it lists; None when not ready"""
    waiting: str | None = None
    """why the edition is not ready (export missing, files still being written)"""
    files: tuple[tuple[str, str], ...] = ()
    """(file name, sha256) of each export file, as raw.load_log records them"""


def edition_state(
    folder: Path, *, settle_seconds: float = 0.0, now: float | None = None
) -> EditionState:
    """Content hash of an edition folder: manifest.yml + the export files it lists,
    streamed by chunks (names included, so a renamed file counts as a change).

    The files are those of the manifest model, confined to the folder: a manifest that
    cannot be used (wrong types, a `files:` entry leading outside the folder) counts by
    its own content only, so nothing outside the folder is ever read, and the run says why.
    """
    listed = listed_export_paths(folder) or []
    files = [folder / MANIFEST_NAME, *listed]
    missing = [str(p.relative_to(folder)) for p in files if not p.is_file()]
    if missing:
        return EditionState(folder.name, None, f"waiting for {', '.join(missing)}")
    now = time.time() if now is None else now
    if settle_seconds > 0 and max(p.stat().st_mtime for p in files) > now - settle_seconds:
        return EditionState(folder.name, None, "files still being written")
    digest = hashlib.sha256()
    hashes = []
    for path in files:
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        own = hashlib.sha256()  # the file's own hash, as the ingester logs it
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                own.update(chunk)
        digest.update(b"\0")
        if path.name != MANIFEST_NAME:
            hashes.append((path.name, own.hexdigest()))
    return EditionState(folder.name, digest.hexdigest(), files=tuple(sorted(hashes)))


def scan_editions(data_dir: Path, *, settle_seconds: float = 0.0) -> list[EditionState]:
    return [
        edition_state(data_dir / e, settle_seconds=settle_seconds)
        for e in discover_editions(data_dir)
    ]


def _settle_seconds() -> float:
    return float(os.environ.get(ENV_SENSOR_SETTLE, DEFAULT_SENSOR_SETTLE))


def _known_partitions(instance) -> set[str]:
    return set(instance.get_dynamic_partitions(edition_partitions.name))


CONTENT_TAG = "barometre/content_sha256"
"""Tag of an ingestion run: the fingerprint (edition_state) of the folder it loaded."""


SEEDS_TAG = "barometre/seeds_sha256"
"""Tag of an ingestion run started by `barometre run`: the fingerprint of the seeds
(reference tables) the ingestion resolved names and answers with."""


def seeds_fingerprint(seeds_dir: Path) -> str:
    """sha256 of every seed CSV (names included): a change may alter what a load writes."""
    digest = hashlib.sha256()
    for path in sorted(seeds_dir.rglob("*.csv")):
        digest.update(str(path.relative_to(seeds_dir)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _last_ingestion_tags(instance, edition: str) -> dict[str, str]:
    runs = instance.get_runs(
        RunsFilter(
            job_name=INGEST_JOB,
            statuses=[DagsterRunStatus.SUCCESS],
            tags={"dagster/partition": edition},
        ),
        limit=1,
    )
    return dict(runs[0].tags) if runs else {}


def unchanged_since_last_load(
    instance,
    state: EditionState,
    seeds_sha256: str,
    loaded: Iterable[tuple[str, str, str]] | None,
) -> bool:
    """Whether loading the edition again would write what the warehouse holds already:
    its last successful ingestion loaded this very folder content (manifest and files)
    with these seeds, and raw.load_log still records those files (`loaded`: rows
    (file, sha256, loaded_at) of barometre.serve.status.edition_loads; a warehouse replaced or
    restored since then shows other files or none)."""
    if state.fingerprint is None or not loaded:
        return False
    tags = _last_ingestion_tags(instance, state.edition)
    if tags.get(CONTENT_TAG) != state.fingerprint or tags.get(SEEDS_TAG) != seeds_sha256:
        return False
    return tuple(sorted((name, sha) for name, sha, _when in loaded)) == state.files


def last_ingested(instance, editions: Iterable[str]) -> dict[str, str]:
    """Fingerprint loaded by the last successful ingestion of each edition, from run tags
    (sensor, schedule and `barometre run` all set it)."""
    found: dict[str, str] = {}
    for edition in editions:
        runs = instance.get_runs(
            RunsFilter(
                job_name=INGEST_JOB,
                statuses=[DagsterRunStatus.SUCCESS],
                tags={"dagster/partition": edition},
            ),
            limit=1,
        )
        if runs and runs[0].tags.get(CONTENT_TAG):
            found[edition] = runs[0].tags[CONTENT_TAG]
    return found


def _ingest_request(edition: str, fingerprint: str | None, reason: str) -> RunRequest:
    tags = {**WRITER_TAGS, "barometre/trigger": reason}
    if fingerprint:
        tags[CONTENT_TAG] = fingerprint
    return RunRequest(job_name=INGEST_JOB, partition_key=edition, tags=tags)


def evaluate_raw_exports(
    states: Iterable[EditionState],
    cursor: str | None,
    known_partitions: set[str],
    ingested: dict[str, str] | None = None,
) -> SensorResult:
    """The sensor's decision, from what the folder holds and what it saw last time.

    `ingested` (edition → fingerprint of its last successful ingestion) stands in for
    the cursor where the cursor knows nothing yet, so the first tick does not reload
    what `barometre run` just loaded."""
    seen: dict[str, str] = {
        **(ingested or {}),
        **(json.loads(cursor).get("editions", {}) if cursor else {}),
    }
    states = list(states)
    new_partitions = sorted(s.edition for s in states if s.edition not in known_partitions)
    requests, notes, now_seen = [], [], {}
    for state in states:
        before = seen.get(state.edition)
        if state.fingerprint is None:
            notes.append(f"{state.edition}: {state.waiting}")
            if before:
                now_seen[state.edition] = before  # keep: nothing new to run yet
            continue
        now_seen[state.edition] = state.fingerprint
        if before == state.fingerprint:
            continue
        reason = "new edition" if before is None else "export changed"
        requests.append(_ingest_request(state.edition, state.fingerprint, reason))
        notes.append(f"{state.edition}: {reason}")
    new_cursor = json.dumps({"editions": now_seen}, sort_keys=True)
    partitions = [edition_partitions.build_add_request(new_partitions)] if new_partitions else []
    if not requests:
        detail = "; ".join(notes) if notes else f"{len(states)} edition(s) unchanged"
        return SensorResult(
            skip_reason=SkipReason(f"no new or changed export ({detail})"),
            cursor=new_cursor,
            dynamic_partitions_requests=partitions,
        )
    return SensorResult(
        run_requests=requests, cursor=new_cursor, dynamic_partitions_requests=partitions
    )


@sensor(
    name="raw_exports_sensor",
    job_name=INGEST_JOB,
    minimum_interval_seconds=SENSOR_INTERVAL,
    default_status=DefaultSensorStatus.RUNNING,
    description="Watches BAROMETRE_DATA_DIR: a new edition folder becomes a partition; "
    "a new or changed export (content hash) triggers that edition's ingestion.",
)
def raw_exports_sensor(
    context: SensorEvaluationContext, warehouse: WarehouseResource
) -> SensorResult:
    data_dir = warehouse.data_path()
    states = scan_editions(data_dir, settle_seconds=_settle_seconds())
    cursor_editions = json.loads(context.cursor).get("editions", {}) if context.cursor else {}
    unknown = [s.edition for s in states if s.edition not in cursor_editions]
    result = evaluate_raw_exports(
        states,
        context.cursor,
        _known_partitions(context.instance),
        last_ingested(context.instance, unknown),
    )
    for request in result.run_requests or []:
        context.log.info(
            f"edition {request.partition_key}: "
            f"{request.tags.get('barometre/trigger')} → {INGEST_JOB}"
        )
    return result


# --------------------------------------------------------------------------- after ingest


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    name="refresh_marts_after_ingest",
    request_job=transform_job,
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=SENSOR_INTERVAL,
    description="After an edition is ingested, rebuild the (cross-edition) marts and "
    "publish them: requests a `transform` run, unless one is already waiting.",
)
def refresh_marts_after_ingest(context: RunStatusSensorContext):
    run = context.dagster_run
    if run.job_name != INGEST_JOB:
        return SkipReason(f"run {run.run_id} of job {run.job_name}: nothing to refresh")
    waiting = context.instance.get_runs(
        RunsFilter(
            job_name=TRANSFORM_JOB, statuses=[DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED]
        ),
        limit=1,
    )
    if waiting:
        return SkipReason(
            f"transform run {waiting[0].run_id} is already waiting: it will "
            f"include edition {run.tags.get('dagster/partition')}"
        )
    return RunRequest(
        run_key=f"after-{run.run_id}",
        tags={
            **WRITER_TAGS,
            "barometre/trigger": f"ingested {run.run_id}",
            "barometre/edition": run.tags.get("dagster/partition", ""),
        },
    )


# --------------------------------------------------------------------------- schedule


def weekly_requests(data_dir: Path, instance) -> list[RunRequest] | SkipReason:
    """An ingestion run for every ready edition (partitions added when missing)."""
    states = scan_editions(data_dir)
    ready = [s for s in states if s.fingerprint]
    if not ready:
        return SkipReason(f"no edition ready under {data_dir}")
    missing = [s.edition for s in ready if s.edition not in _known_partitions(instance)]
    if missing:
        instance.add_dynamic_partitions(edition_partitions.name, missing)
    return [_ingest_request(s.edition, s.fingerprint, "weekly schedule") for s in ready]


def build_weekly_refresh(cron: str | None = None) -> ScheduleDefinition:
    cron = cron or os.environ.get(ENV_SCHEDULE_CRON) or DEFAULT_SCHEDULE_CRON

    @schedule(
        cron_schedule=cron,
        name="weekly_refresh",
        job_name=INGEST_JOB,
        execution_timezone=SCHEDULE_TIMEZONE,
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"Reload every edition, then rebuild and publish the marts "
        f"(cron {cron!r}, {SCHEDULE_TIMEZONE}; set {ENV_SCHEDULE_CRON} to change it).",
    )
    def _weekly_refresh(context: ScheduleEvaluationContext, warehouse: WarehouseResource):
        return weekly_requests(warehouse.data_path(), context.instance)

    return _weekly_refresh


weekly_refresh = build_weekly_refresh()

AUTOMATION_ASSETS = [published_warehouse]
AUTOMATION_JOBS = [transform_job]
AUTOMATION_SENSORS = [raw_exports_sensor, refresh_marts_after_ingest]
AUTOMATION_SCHEDULES = [weekly_refresh]
