"""The seeds' own dbt tests, run before anything is loaded (`barometre validate`).

The edition contract (every question keyed, keys unique per edition, crosswalked
questions worded alike, themes and scale complete, …) lives in one place: the
seed-level dbt tests (seeds/_seeds.yml, dbt_project/tests/seeds/, generic tests in
dbt_project/tests/generic/). `dbt build` runs them with every run; this module runs
the same tests on the seeds alone, in a throw-away copy of the dbt project and a
throw-away DuckDB file, so that `validate` refuses what the run would refuse.

The copy holds the project file, profile, macros, the generic tests and the
seed-level singular tests (those in tests/seeds/, which read seeds only), beside the
seeds folder given and an empty models folder: nothing of the working project
(target/, the warehouse) is touched, and a test can validate a seeds copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from barometre.common.settings import ENV_WAREHOUSE, get_settings
from barometre.validate.dbt_failures import TestFailure, read_failures

SEED_TESTS_DIR = "seeds"
"""Sub-folder of dbt_project/tests holding the singular tests that read seeds only."""
TIMEOUT_SECONDS = 600
"""Longest a seed check may take (dbt on a few thousand seed rows takes seconds)."""


class SeedCheckError(RuntimeError):
    """dbt could not run the seed checks at all (not a failing test)."""


def _throwaway_project(root: Path, dbt_project_dir: Path, seeds_dir: Path) -> Path:
    project = root / "project"
    (project / "tests").mkdir(parents=True)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy2(dbt_project_dir / name, project / name)
    shutil.copytree(dbt_project_dir / "macros", project / "macros")
    for sub in ("generic", SEED_TESTS_DIR):
        if (dbt_project_dir / "tests" / sub).is_dir():
            shutil.copytree(dbt_project_dir / "tests" / sub, project / "tests" / sub)
    # dbt_project.yml reads ../seeds and ../models
    shutil.copytree(seeds_dir, root / "seeds")
    (root / "models").mkdir()
    return project


def run_seed_checks(
    seeds_dir: Path | None = None, dbt_project_dir: Path | None = None
) -> list[TestFailure]:
    """Load the seeds and run their tests; the failures (empty when all pass)."""
    settings = get_settings()
    seeds_dir = Path(seeds_dir or settings.seeds_dir)
    dbt_project_dir = Path(dbt_project_dir or settings.dbt_project_dir)
    with tempfile.TemporaryDirectory(prefix="barometre-seed-checks-") as tmp:
        root = Path(tmp)
        project = _throwaway_project(root, dbt_project_dir, seeds_dir)
        warehouse = root / "seeds.duckdb"
        command = [
            str(settings.dbt_executable),
            "build",
            "--select",
            "resource_type:seed",
            "--indirect-selection",
            "cautious",  # the tests whose parents are all seeds
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--quiet",
        ]
        env = {**os.environ, ENV_WAREHOUSE: str(warehouse)}
        try:
            done = subprocess.run(
                command,
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as err:
            raise SeedCheckError(
                f"the seed checks took longer than {TIMEOUT_SECONDS} s and were stopped"
            ) from err
        failures = read_failures(project / "target", warehouse)
        if done.returncode != 0 and not failures:
            detail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise SeedCheckError(f"dbt could not check the seeds:\n{detail}")
        return failures
