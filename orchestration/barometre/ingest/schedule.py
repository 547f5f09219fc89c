"""The weekly schedule: an ingestion run for every ready edition (then the refresh after
ingestion rebuilds and publishes the marts). Cron BAROMETRE_SCHEDULE_CRON, default
Monday 06:00 Europe/Paris; RUNNING by default in the Dagster UI."""

import os
from pathlib import Path
from typing import Any

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from barometre.common.resources import WarehouseResource
from barometre.ingest.assets import edition_partitions
from barometre.ingest.fingerprint import scan_editions, seeds_fingerprint
from barometre.ingest.runs import INGEST_JOB, ingest_request, known_partitions

ENV_SCHEDULE_CRON = "BAROMETRE_SCHEDULE_CRON"
DEFAULT_SCHEDULE_CRON = "0 6 * * 1"
SCHEDULE_TIMEZONE = "Europe/Paris"


def weekly_requests(
    data_dir: Path, instance: Any, seeds_dir: Path
) -> list[RunRequest] | SkipReason:
    """An ingestion run for every ready edition (partitions added when missing)."""
    states = scan_editions(data_dir)
    ready = [s for s in states if s.fingerprint]
    if not ready:
        return SkipReason(f"no edition ready under {data_dir}")
    missing = [s.edition for s in ready if s.edition not in known_partitions(instance)]
    if missing:
        instance.add_dynamic_partitions(edition_partitions.name, missing)
    seeds = seeds_fingerprint(seeds_dir)
    return [ingest_request(s.edition, s.fingerprint, "weekly schedule", seeds) for s in ready]


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
    def _weekly_refresh(
        context: ScheduleEvaluationContext, warehouse: WarehouseResource
    ) -> list[RunRequest] | SkipReason:
        return weekly_requests(warehouse.data_path(), context.instance, warehouse.seeds_path())

    return _weekly_refresh


weekly_refresh = build_weekly_refresh()
