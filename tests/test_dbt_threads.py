"""dbt builds two nodes side by side on the DuckDB target by default
(BAROMETRE_DBT_THREADS; issue 10, docs/performance.md "Session 11: two dbt threads")."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from barometre.common.settings import (
    DEFAULT_DBT_THREADS,
    ENV_DBT_THREADS,
    MAX_DBT_THREADS,
    get_settings,
)
from tests.conftest import run_dbt


def test_threads_default_and_refuse_what_is_not_a_small_whole_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV_DBT_THREADS, raising=False)
    assert get_settings().dbt_threads == DEFAULT_DBT_THREADS == 2
    monkeypatch.setenv(ENV_DBT_THREADS, " 1 ")
    assert get_settings().dbt_threads == 1
    monkeypatch.setenv(ENV_DBT_THREADS, str(MAX_DBT_THREADS))
    assert get_settings().dbt_threads == MAX_DBT_THREADS
    for bad in ("0", "-1", "two", "1.5", str(MAX_DBT_THREADS + 1), "2; rm", "²", "9" * 5000):
        monkeypatch.setenv(ENV_DBT_THREADS, bad)
        with pytest.raises(SystemExit, match=f"{ENV_DBT_THREADS}.*1 to {MAX_DBT_THREADS}"):
            get_settings()


@pytest.mark.slow
@pytest.mark.parametrize(("setting", "shown"), [(None, 2), ("1", 1)])
def test_the_profile_gives_dbt_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str | None, shown: int
) -> None:
    """The profile's `threads` reaches dbt: it announces its concurrency when it builds."""
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    if setting is None:
        monkeypatch.delenv(ENV_DBT_THREADS, raising=False)
    else:
        monkeypatch.setenv(ENV_DBT_THREADS, setting)
    seeded = run_dbt(warehouse, "seed", "--select", "editions")
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    assert f"Concurrency: {shown} thread" in seeded.stdout, seeded.stdout
