"""dbt's DuckDB connection has a bounded memory (BAROMETRE_DBT_MEMORY_LIMIT, issue 10:
the 10 M-answer run peaked at 12.2 GiB without it)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from barometre.common.settings import (
    DEFAULT_DBT_MEMORY_LIMIT,
    ENV_DBT_MEMORY_LIMIT,
    ENV_DBT_THREADS,
    export_environment,
    get_settings,
)
from tests.conftest import run_dbt


def test_memory_limit_defaults_and_refuses_what_is_not_an_amount(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV_DBT_MEMORY_LIMIT, raising=False)
    assert get_settings().dbt_memory_limit == DEFAULT_DBT_MEMORY_LIMIT
    monkeypatch.setenv(ENV_DBT_MEMORY_LIMIT, " 1500MB ")
    assert get_settings().dbt_memory_limit == "1500MB"
    for bad in ("lots", "4", "80%", "4GB; drop table x"):
        monkeypatch.setenv(ENV_DBT_MEMORY_LIMIT, bad)
        with pytest.raises(SystemExit, match=ENV_DBT_MEMORY_LIMIT):
            get_settings()


def test_export_environment_hands_the_limit_and_threads_to_dbt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_DBT_MEMORY_LIMIT, "3GB")
    monkeypatch.setenv(ENV_DBT_THREADS, "1")
    for name in ("PATH", "BAROMETRE_DATA_DIR", "BAROMETRE_WAREHOUSE", "DAGSTER_HOME"):
        monkeypatch.setenv(name, os.environ.get(name, ""))
    for name in ("BAROMETRE_PUBLISHED_DIR", "BAROMETRE_REPORT_DIR", "BAROMETRE_TARGET"):
        monkeypatch.setenv(name, os.environ.get(name, ""))
    export_environment(get_settings())
    assert os.environ[ENV_DBT_MEMORY_LIMIT] == "3GB"
    assert os.environ[ENV_DBT_THREADS] == "1"


@pytest.mark.slow
def test_dbt_connection_runs_under_the_limit(tmp_path: Path) -> None:
    """The profile's setting reaches DuckDB: a model dbt builds records the connection's
    memory_limit (DuckDB prints it in its own unit)."""
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    env = os.environ.get(ENV_DBT_MEMORY_LIMIT)
    os.environ[ENV_DBT_MEMORY_LIMIT] = "1GB"
    try:
        shown = run_dbt(
            warehouse,
            "show",
            "--inline",
            "select current_setting('memory_limit') as memory_limit",
            "--output",
            "json",
        )
    finally:
        if env is None:
            os.environ.pop(ENV_DBT_MEMORY_LIMIT)
        else:
            os.environ[ENV_DBT_MEMORY_LIMIT] = env
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "953.6 MiB" in shown.stdout, shown.stdout
