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
from barometre.writer_lock import dagster_writer

_settings = get_settings()
MART_TAG = "mart"

dbt_project = DbtProject(
    project_dir=_settings.dbt_project_dir,
    profiles_dir=_settings.dbt_profiles_dir,
)

if not dbt_project.manifest_path.is_file():
    raise FileNotFoundError(
        f"dbt manifest not found at {dbt_project.manifest_path}.\n"
        "  What to do: run `make setup` (or `barometre prepare`) to build it; it is built at "
        "install time, not when Dagster loads."
    )


# dbt tests (source tests included) are shown as asset checks on the assets they test.
translator = DagsterDbtTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True, enable_source_tests_as_checks=True
    )
)


def _build(context: AssetExecutionContext, dbt: DbtCliResource, tests: str) -> Iterator[Any]:
    # A test spanning core and marts must run with the marts, once both exist: the core
    # step takes only the tests whose parents it all builds (cautious), the marts step
    # every test touching a mart (eager).
    # dbt writes the working warehouse: hold its writer lock (barometre.writer_lock).
    with dagster_writer(context):
        yield from dbt.cli(["build", "--indirect-selection", tests], context=context).stream()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    name="barometre_dbt_core",
    exclude=f"tag:{MART_TAG}",
    dagster_dbt_translator=translator,
)
def barometre_dbt_core(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """Seeds, staging, intermediate and core models with their tests (`dbt build`)."""
    yield from _build(context, dbt, "cautious")


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    name="barometre_dbt_marts",
    select=f"tag:{MART_TAG}",
    dagster_dbt_translator=translator,
)
def barometre_dbt_marts(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """The marts (schemas marts and restricted) with their tests, in a step of their own:
    a failed blocking check on a core asset stops the run before any mart is built."""
    yield from _build(context, dbt, "eager")


DBT_ASSETS = [barometre_dbt_core, barometre_dbt_marts]
DBT_ASSET_KEYS = sorted({k for a in DBT_ASSETS for k in a.keys}, key=lambda k: k.to_user_string())
