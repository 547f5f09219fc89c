"""The `transform` job and what starts it: after any successful `ingest_edition` run,
the refresh sensor requests one, so that the cross-edition marts are rebuilt and
published (RUNNING by default in the Dagster UI)."""

from dagster import (
    AssetSelection,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    RunStatusSensorContext,
    SkipReason,
    define_asset_job,
    run_status_sensor,
)

from barometre.common.writer_lock import WRITER_TAGS
from barometre.ingest.runs import INGEST_JOB
from barometre.ingest.sensor import SENSOR_INTERVAL
from barometre.transform.dbt_assets import DBT_ASSETS

TRANSFORM_JOB = "transform"

TRANSFORM_SELECTION = (
    # the dbt assets and what is built from them: the publication (publish/), and the
    # HTML report built from the publication (serve/), refreshed with the marts
    AssetSelection.assets(*DBT_ASSETS).downstream()
    # every dbt test, the source tests on the raw tables included: they run once, in
    # this build, not after each edition's ingestion
    | AssetSelection.checks(*DBT_ASSETS)
)

transform_job = define_asset_job(
    TRANSFORM_JOB,
    selection=TRANSFORM_SELECTION,
    description="dbt build (seeds, staging, core, marts and their tests), then publish "
    "the marts for BI, only if every blocking test passed.",
    run_tags=WRITER_TAGS,
)


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
