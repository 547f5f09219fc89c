"""A cold `barometre run` parses the dbt project in the background while it loads the
editions (barometre.serve.cli.preparse; docs/performance.md, "Session 8: the cold
start"): started only for a fresh DuckDB warehouse, its state handed to the dbt step
only when the parse succeeded and no state is there, never left running."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from barometre.common.settings import get_settings
from barometre.serve.cli.preparse import Preparse, start_preparse
from barometre.transform.partial_parse import (
    PARTIAL_PARSE,
    announce_state,
    await_state,
    withdraw_states,
)


def _fake_parse(folder: Path, *, status: int = 0, sleep: float = 0.0, writes: bool = True):
    """A child standing for `dbt parse`: writes its state file, then exits with `status`."""
    folder.mkdir(parents=True, exist_ok=True)
    code = (
        "import sys, time; from pathlib import Path; "
        f"time.sleep({sleep}); "
        + (f"Path(sys.argv[1], {PARTIAL_PARSE!r}).write_bytes(b'state'); " if writes else "")
        + f"sys.exit({status})"
    )
    return Preparse(subprocess.Popen([sys.executable, "-c", code, str(folder)]), folder)


def test_the_state_of_a_successful_parse_is_handed_over(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "key.msgpack"
    preparse = _fake_parse(tmp_path / "parse")
    assert preparse.hand_over(cache)
    assert cache.read_bytes() == b"state"
    assert not (tmp_path / "parse").exists()
    assert list(cache.parent.iterdir()) == [cache]  # no staging file left


@pytest.mark.parametrize("status, writes", [(2, True), (0, False)])
def test_a_failed_parse_hands_nothing_over(tmp_path: Path, status: int, writes: bool) -> None:
    cache = tmp_path / "key.msgpack"
    assert not _fake_parse(tmp_path / "parse", status=status, writes=writes).hand_over(cache)
    assert not cache.exists()
    assert not (tmp_path / "parse").exists()


def test_a_state_already_there_is_kept(tmp_path: Path) -> None:
    cache = tmp_path / "key.msgpack"
    cache.write_bytes(b"earlier")
    assert not _fake_parse(tmp_path / "parse").hand_over(cache)
    assert cache.read_bytes() == b"earlier"


def test_a_parse_not_done_in_time_is_stopped_and_dropped(tmp_path: Path) -> None:
    cache = tmp_path / "key.msgpack"
    preparse = _fake_parse(tmp_path / "parse", sleep=60)
    assert not preparse.hand_over(cache, timeout=0.2)
    assert preparse.process.poll() is not None  # stopped, not left running
    assert not cache.exists()
    assert not (tmp_path / "parse").exists()


def test_close_stops_a_running_parse(tmp_path: Path) -> None:
    preparse = _fake_parse(tmp_path / "parse", sleep=60)
    preparse.close()
    assert preparse.process.poll() is not None
    assert not (tmp_path / "parse").exists()
    preparse.close()  # twice: nothing more to do


def test_started_only_for_a_fresh_duckdb_warehouse(tmp_path: Path) -> None:
    settings = dataclasses.replace(get_settings(), warehouse=tmp_path / "w.duckdb")
    (tmp_path / "w.duckdb").write_bytes(b"")
    assert start_preparse(settings) is None  # a warehouse there: its state is kept
    (tmp_path / "w.duckdb").unlink()
    assert start_preparse(dataclasses.replace(settings, target="postgres")) is None


@pytest.mark.slow
def test_the_dbt_step_takes_the_handed_over_state_as_its_own(tmp_path: Path, monkeypatch) -> None:
    """A real `dbt parse` of the project, handed over, is the state dbt accepts when it
    runs as the dbt step runs it (dagster-dbt's environment, another target folder):
    dbt then skips parsing ("no changes found")."""
    from barometre.transform.dbt_assets import partial_parse_cache

    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("BAROMETRE_WAREHOUSE", str(warehouse))
    settings = dataclasses.replace(get_settings(), warehouse=warehouse)
    preparse = start_preparse(settings)
    assert preparse is not None
    cache = partial_parse_cache(warehouse, "duckdb")
    try:
        assert preparse.hand_over(cache)
        assert not warehouse.exists()  # dbt parse never opened the warehouse
        step = tmp_path / "step-target"
        step.mkdir()
        shutil.copy(cache, step / PARTIAL_PARSE)  # as the dbt step restores it
        project = str(settings.dbt_project_dir)
        env = {  # what dagster-dbt sets for the step's dbt (DbtCliResource.cli)
            **os.environ,
            "DAGSTER_DBT_CLI": "true",
            "PYTHONUNBUFFERED": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_LOG_FORMAT": "json",
            "DBT_TARGET_PATH": str(step),
            "DBT_LOG_PATH": str(step),
            "DBT_PROFILES_DIR": str(settings.dbt_profiles_dir),
            "DBT_PROJECT_DIR": project,
        }
        done = subprocess.run(
            [str(settings.dbt_executable), "parse", "--log-format-file", "debug"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-2000:]
        log = (step / "dbt.log").read_text()
        assert "no changes found, skipping parsing" in log
        assert "Unable to do partial parsing" not in log
    finally:
        cache.unlink(missing_ok=True)


def test_the_dbt_step_waits_for_the_announced_state(tmp_path: Path) -> None:
    """`barometre run` announces the parse; the dbt step waits for it there, not before
    the transform run (its creation runs meanwhile), and takes it once."""
    cache = tmp_path / "cache" / "key.msgpack"
    assert await_state(cache) is None  # nothing announced: dbt parses itself
    announce_state(cache, _fake_parse(tmp_path / "parse", sleep=0.5).hand_over)
    waited = await_state(cache)
    assert waited is not None and waited >= 0.4
    assert cache.read_bytes() == b"state"
    assert await_state(cache) is None  # taken once


def test_an_announced_parse_that_fails_hands_nothing_over(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "key.msgpack"
    announce_state(cache, _fake_parse(tmp_path / "parse", status=1).hand_over)
    assert await_state(cache) is None and not cache.exists()


def test_a_run_that_ends_before_dbt_leaves_no_parse_running(monkeypatch) -> None:
    """`barometre run` stops its parse whatever ends it before dbt (here: the instance
    cannot be opened)."""
    from barometre.serve.cli import run

    closed: list[bool] = []

    class Started:
        def close(self) -> None:
            closed.append(True)

    def no_instance(_settings: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(run, "start_preparse", lambda _settings: Started())
    monkeypatch.setattr(run, "prepare_instance", no_instance)
    cache = Path("announced-by-an-earlier-step-of-this-run")
    announce_state(cache, lambda _cache: True)
    with pytest.raises(OSError, match="disk full"):
        run._run(get_settings(), ["2018"], ["2018"], watch=None)  # type: ignore[arg-type]
    assert closed == [True]
    assert await_state(cache) is None  # withdrawn: no later step of this process takes it
    withdraw_states()


def test_the_folders_of_killed_runs_are_removed(tmp_path: Path) -> None:
    """A run killed by SIGKILL leaves its parse folder; the next one removes it, never
    the folder of a run still alive (nor anything else in dbt's target folder)."""
    from barometre.serve.cli.preparse import remove_abandoned

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    abandoned = tmp_path / f"preparse-{dead.pid}-abc123"
    live = tmp_path / f"preparse-{os.getpid()}-def456"
    other = tmp_path / "partial_parse"
    for folder in (abandoned, live, other):
        (folder / "sub").mkdir(parents=True)
    remove_abandoned(tmp_path)
    assert not abandoned.exists() and live.is_dir() and other.is_dir()


def test_the_states_of_warehouses_unused_for_a_month_are_forgotten(tmp_path: Path) -> None:
    """One parse state per warehouse path: those no build saved for 30 days go (tests,
    benchmarks and deleted warehouses would otherwise leave ~2 MB each forever)."""
    from barometre.transform.partial_parse import forget_unused, save_partial_parse

    folder = tmp_path / "partial_parse"
    folder.mkdir()
    old, recent = folder / "old.msgpack", folder / "recent.msgpack"
    for state in (old, recent):
        state.write_bytes(b"state")
    month_ago = time.time() - 31 * 86400
    os.utime(old, (month_ago, month_ago))
    other = folder / "notes.txt"
    other.write_text("not a state")
    os.utime(other, (month_ago, month_ago))
    step = tmp_path / "step"
    step.mkdir()
    (step / PARTIAL_PARSE).write_bytes(b"new state")
    assert save_partial_parse(step, folder / "this.msgpack")  # saving prunes the rest
    assert sorted(p.name for p in folder.iterdir()) == [
        "notes.txt",
        "recent.msgpack",
        "this.msgpack",
    ]
    assert forget_unused(folder) == []
