"""The Dagster code location: one Definitions for the whole warehouse."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job
from dagster_dbt import DbtCliResource

from barometre.automation import (
    AUTOMATION_SCHEDULES,
    AUTOMATION_SENSORS,
    WRITER_TAGS,
    published_warehouse,
    transform_job,
)
from barometre.common.resources import WarehouseResource
from barometre.common.settings import export_environment, get_settings
from barometre.ingest.assets import raw_edition, survey_exports
from barometre.serve.report.asset import barometre_report
from barometre.transform.dbt_assets import DBT_ASSETS, dbt_project
from barometre.validate.checks import QUALITY_CHECKS

# dbt's profile reads BAROMETRE_WAREHOUSE: make sure it is set to the resolved path.
_settings = get_settings()
export_environment(_settings)

ingest_edition_job = define_asset_job(
    "ingest_edition",
    # The raw tables with their own checks only: the dbt source tests on them (asset
    # checks of the dbt assets) run once in the `transform` build, not in a dbt
    # invocation of their own after each edition.
    selection=AssetSelection.assets(raw_edition).without_checks()
    | AssetSelection.checks(raw_edition),
    description="Load one edition's exports into schema raw (partition = edition).",
    run_tags=WRITER_TAGS,
)

defs = Definitions(
    assets=[survey_exports, raw_edition, *DBT_ASSETS, published_warehouse, barometre_report],
    asset_checks=QUALITY_CHECKS,
    jobs=[ingest_edition_job, transform_job],
    sensors=AUTOMATION_SENSORS,
    schedules=AUTOMATION_SCHEDULES,
    resources={
        "warehouse": WarehouseResource(),
        "dbt": DbtCliResource(
            project_dir=dbt_project, dbt_executable=str(_settings.dbt_executable)
        ),
    },
)
