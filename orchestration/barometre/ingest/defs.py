"""Stage 1's Dagster definitions: the survey exports, the raw tables (one multi-asset,
partitioned by edition, with its blocking checks), the `ingest_edition` job and what
starts it (the raw-folder sensor, the weekly schedule)."""

from dagster import Definitions

from barometre.ingest.assets import raw_edition, survey_exports
from barometre.ingest.runs import ingest_edition_job
from barometre.ingest.schedule import weekly_refresh
from barometre.ingest.sensor import raw_exports_sensor

defs = Definitions(
    assets=[survey_exports, raw_edition],
    jobs=[ingest_edition_job],
    sensors=[raw_exports_sensor],
    schedules=[weekly_refresh],
)
