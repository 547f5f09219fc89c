"""The dbt project as dagster-dbt sees it: one `DbtProject`, and how its manifest is made.

The manifest (dbt_project/target/manifest.json) is made by dagster-dbt's own project
preparation (`dbt parse`; `dbt deps` too once the project has packages), never by a
hand-written check:

- at install time: `make setup` runs
  `dagster-dbt project prepare-and-package --file orchestration/barometre/transform/dbt_project.py`
  (`barometre prepare` does the same), and again whenever a dbt file changed;
- for the spark target, in target/spark/: `BAROMETRE_TARGET=spark barometre prepare`
  (`barometre run` prepares it when missing), with the optional extra `spark` installed;
- before the UI: `barometre ui` prepares it once when a dbt file is newer than it
  (barometre.transform.dbt_manifest), before starting Dagster.

Loading the code only reads the manifest, everywhere (`dagster dev` included: no
`prepare_if_dev()`, which would parse on every code load, so the UI would serve only
after a dbt parse and every run launched from it would parse again).
"""

from __future__ import annotations

from dagster_dbt import DbtProject

from barometre.common.settings import export_environment, get_settings

_settings = get_settings()
# dbt's profile reads BAROMETRE_WAREHOUSE, and the preparation runs the project's dbt.
export_environment(_settings)

# One manifest per adapter family: dbt renders the dispatched model configs for the
# target's adapter when it parses, so the spark target has its own (target/spark/),
# prepared by `barometre prepare` with BAROMETRE_TARGET=spark (Settings.dbt_target_path).
dbt_project = DbtProject(
    project_dir=_settings.dbt_project_dir,
    profiles_dir=_settings.dbt_profiles_dir,
    target_path=_settings.dbt_target_path,
)
