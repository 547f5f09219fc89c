"""Stage 3's Dagster definitions: the dbt project as assets (dbt tests as asset checks),
the dbt resource, and the `transform` job with the sensor that requests it after each
ingestion."""

from dagster import Definitions

from barometre.common.settings import get_settings
from barometre.transform.dbt_assets import DBT_ASSETS
from barometre.transform.dbt_project import dbt_project
from barometre.transform.dbt_resource import BarometreDbtCliResource
from barometre.transform.runs import refresh_marts_after_ingest, transform_job

defs = Definitions(
    assets=DBT_ASSETS,
    jobs=[transform_job],
    sensors=[refresh_marts_after_ingest],
    resources={
        "dbt": BarometreDbtCliResource(
            # dagster-dbt takes the DbtProject itself (its validator reads the folders)
            project_dir=dbt_project,  # type: ignore[arg-type]
            dbt_executable=str(get_settings().dbt_executable),
        ),
    },
)
