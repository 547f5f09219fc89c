"""The dbt project as Dagster assets; dbt tests become asset checks.

The manifest is built at install time (`make setup` runs `dbt parse`), never when
this code location loads.
"""


from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from barometre.settings import get_settings

_settings = get_settings()

dbt_project = DbtProject(
    project_dir=_settings.dbt_project_dir,
    profiles_dir=_settings.dbt_profiles_dir,
)

if not dbt_project.manifest_path.is_file():
    raise FileNotFoundError(
        f"dbt manifest not found at {dbt_project.manifest_path}.\n"
        "  What to do: run `make setup` (or `barometre dbt-parse`) to build it; it is built at "
        "install time, not when Dagster loads."
    )


# dbt tests (source tests included) are shown as asset checks on the assets they test.
translator = DagsterDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True,
                                          enable_source_tests_as_checks=True)
)


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, name="barometre_dbt",
            dagster_dbt_translator=translator)
def barometre_dbt(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """Seeds, models and tests of dbt_project/ (`dbt build`)."""
    yield from dbt.cli(["build"], context=context).stream()
