"""The raw-folder sensor: a new edition folder becomes a partition, a new or changed
export starts that edition's ingestion, an unchanged folder starts nothing.

RUNNING by default in the Dagster UI (`barometre ui` starts the daemon that evaluates
it). Tests never start a daemon; they call `evaluate_raw_exports` directly.
"""

import json
import os
from collections.abc import Iterable

from dagster import (
    DefaultSensorStatus,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from barometre.common.resources import WarehouseResource
from barometre.ingest import runs
from barometre.ingest.assets import edition_partitions
from barometre.ingest.fingerprint import EditionState, scan_editions, seeds_fingerprint

ENV_SENSOR_SETTLE = "BAROMETRE_SENSOR_SETTLE_SECONDS"
DEFAULT_SENSOR_SETTLE = 10.0
"""A folder whose files changed less than this many seconds ago is still being copied:
the sensor waits for the next tick."""
SENSOR_INTERVAL = 30
"""Seconds between two evaluations of a sensor (this one and the refresh after ingestion)."""


def _settle_seconds() -> float:
    return float(os.environ.get(ENV_SENSOR_SETTLE, DEFAULT_SENSOR_SETTLE))


def evaluate_raw_exports(
    states: Iterable[EditionState],
    cursor: str | None,
    known_partitions: set[str],
    ingested: dict[str, str] | None = None,
    seeds_sha256: str = "",
) -> SensorResult:
    """The sensor's decision, from what the folder holds and what it saw last time.

    `ingested` (edition → fingerprint of its last successful ingestion) stands in for
    the cursor where the cursor knows nothing yet, so the first tick does not reload
    what `barometre run` just loaded. `seeds_sha256` (the seeds' fingerprint) tags each
    run requested, as `barometre run` tags its own, so a later `barometre run` can tell
    the edition is loaded with these seeds and skip it."""
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
        requests.append(runs.ingest_request(state.edition, state.fingerprint, reason, seeds_sha256))
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
    job_name=runs.INGEST_JOB,
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
        runs.known_partitions(context.instance),
        runs.last_ingested(context.instance, unknown),
        seeds_fingerprint(warehouse.seeds_path()),
    )
    for request in result.run_requests or []:
        context.log.info(
            f"edition {request.partition_key}: "
            f"{request.tags.get('barometre/trigger')} → {runs.INGEST_JOB}"
        )
    return result
