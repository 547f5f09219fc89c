"""Shared fixtures. The built warehouse is made once per session, in a temporary folder:
tests never open the working warehouse file."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from barometre.common.settings import ENV_WAREHOUSE, PROJECT_ROOT, get_settings
from barometre.ingest.editions import discover_editions
from barometre.ingest.load import load_edition
from tests.postgres_cluster import pg_bin_dir, throwaway_cluster


def run_dbt(
    warehouse: Path, *args: str, project: Path | None = None
) -> subprocess.CompletedProcess:
    """Run dbt against `warehouse` (a child process, as Dagster runs it), on the project
    or on `project`, a copy of its dbt_project/ (tests/project_copy.py; its own profile).

    Its artefacts go beside the warehouse unless `--target-path` is given: tests never
    rewrite dbt_project/target, whose manifest the Dagster code location reads.
    """
    settings = get_settings()
    env = {**os.environ, ENV_WAREHOUSE: str(warehouse)}
    if "--target-path" not in args:
        args = (*args, "--target-path", str(warehouse.parent / "dbt-target"))
    return subprocess.run(
        [
            str(settings.dbt_executable),
            *args,
            "--project-dir",
            str(project or settings.dbt_project_dir),
            "--profiles-dir",
            str(project or settings.dbt_profiles_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample ingested and built by dbt (`dbt build`) into a temporary file."""
    warehouse = tmp_path_factory.mktemp("warehouse") / "sample.duckdb"
    data_dir = PROJECT_ROOT / "data" / "raw"
    for edition in discover_editions(data_dir):
        load_edition(data_dir / edition, warehouse, PROJECT_ROOT / "seeds")
    result = run_dbt(warehouse, "build", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    return warehouse


@pytest.fixture
def sample_db(sample_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the built sample warehouse."""
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A throw-away cluster's DSN; skipped when the server binaries are not installed
    (`make postgres`), an error in CI, where `make test` installs them."""
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are missing in CI (make postgres)")
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) not installed: "
            "apt-get install postgresql, or `make postgres` as root"
        )
    with throwaway_cluster(bin_dir) as dsn:
        yield dsn
