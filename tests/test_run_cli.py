"""`barometre run`'s own costs (docs/performance.md, "Session 7: P1"): it ends its process
without tearing its modules down (barometre.serve.cli.exit_now), while what an ordinary
exit does that has an effect still happens, in its order, with the command's status; and
it preloads Great Expectations during dbt only when a suite will likely run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CHILD = """
import atexit, sys, threading, time
from pathlib import Path
from barometre.serve.cli import exit_now

out = Path(sys.argv[1])

def late_writer():
    time.sleep(0.3)
    with out.open("a") as f:
        f.write("thread;")

threading.Thread(target=late_writer).start()  # not a daemon: waited for
atexit.register(lambda: out.open("a").write("atexit;"))
sys.stdout.write("no newline, still printed")  # buffered: flushed before the end
exit_now(3)
print("never reached")
"""


def test_exit_now_waits_for_threads_runs_atexit_and_flushes(tmp_path: Path) -> None:
    out = tmp_path / "order.txt"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(out)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout == "no newline, still printed"
    assert out.read_text() == "thread;atexit;"


def test_main_returns_the_status_when_called_from_python(monkeypatch) -> None:
    """Tests and other Python code call `main([...])`: it returns, never ends the process."""
    from barometre.serve import cli

    parser = cli.build_parser()
    parser._subparsers._group_actions[0].choices["run"].set_defaults(func=lambda args: 7)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    assert cli.main(["run"]) == 7


def test_great_expectations_is_preloaded_only_when_a_suite_will_likely_run(
    tmp_path: Path, monkeypatch
) -> None:
    """A run that loaded an edition preloads GX; one that loaded nothing preloads it only
    when no earlier results of its warehouse stand (validate.scope)."""
    import barometre.validate.checks as checks
    from barometre.serve.cli import run

    monkeypatch.setattr(checks, "DOCS_DIR", tmp_path)
    ours, other = tmp_path / "w.duckdb", tmp_path / "other.duckdb"
    assert run._preloaded(True, ours) == run.PRELOADED_DURING_DBT
    assert run._preloaded(False, ours) == run.PRELOADED_DURING_DBT
    (tmp_path / ".gx").mkdir()
    entry = {"mart_theme_maturity": {"warehouse": str(other.resolve())}}
    (tmp_path / ".gx" / "suites_kept.json").write_text(json.dumps(entry))
    assert run._preloaded(False, ours) == run.PRELOADED_DURING_DBT  # another warehouse's
    entry["mart_theme_maturity"]["warehouse"] = str(ours.resolve())
    (tmp_path / ".gx" / "suites_kept.json").write_text(json.dumps(entry))
    assert run._preloaded(False, ours) == ()
