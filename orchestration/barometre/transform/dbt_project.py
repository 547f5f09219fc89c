"""The dbt project as dagster-dbt sees it: one `DbtProject`, and how its manifest is made.

The manifest (dbt_project/target/manifest.json) is made by dagster-dbt's own project
preparation (`dbt parse`; `dbt deps` too once the project has packages), never by a
hand-written check:

- at install time: `make setup` runs
  `dagster-dbt project prepare-and-package --file orchestration/barometre/transform/dbt_project.py`
  (`barometre prepare` does the same), and again whenever a dbt file changed;
- in development: under `dagster dev` (`barometre ui`), `prepare_if_dev()` below prepares
  it on each code load, so an edited model shows at once.

Anywhere else (`barometre run`, the daemon, a deployment) loading the code only reads
the manifest; it never parses the project.
"""

from __future__ import annotations

from dagster_dbt import DbtProject

from barometre.common.settings import export_environment, get_settings

_settings = get_settings()
# dbt's profile reads BAROMETRE_WAREHOUSE, and the preparation runs the project's dbt.
export_environment(_settings)

dbt_project = DbtProject(
    project_dir=_settings.dbt_project_dir,
    profiles_dir=_settings.dbt_profiles_dir,
)
dbt_project.prepare_if_dev()
