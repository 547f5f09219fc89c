"""The run log keeps everything; the terminal gets dbt's summary and error lines only."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from barometre.common.run_log import captured, new_log_path


def test_log_keeps_everything_terminal_gets_the_essentials(tmp_path: Path, monkeypatch) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stdout", terminal)
    log = new_log_path(tmp_path / "logs")
    with captured(log):
        print("1 of 3 START sql table model core.fct_answers ..... [RUN]")
        print("2 of 3 \x1b[31mERROR\x1b[0m creating sql table model marts.x")
        sys.stdout.write("Done. PASS=2 WARN=0 ERROR=1 SKIP=0 TOTAL=3\npartial")
    print("after")
    text = log.read_text(encoding="utf-8")
    assert "START sql table model core.fct_answers" in text and text.endswith("partial")
    assert terminal.getvalue().splitlines() == [
        "  dbt: 2 of 3 ERROR creating sql table model marts.x",
        "  dbt: 1/3 nodes done",
        "  dbt: Done. PASS=2 WARN=0 ERROR=1 SKIP=0 TOTAL=3",
        "after",
    ]


def test_terminal_gets_a_progress_line_each_tenth_of_a_build(tmp_path: Path, monkeypatch) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stdout", terminal)
    with captured(new_log_path(tmp_path / "logs")):
        # the project hooks are numbered apart ("1 of 1"): not nodes of the build
        print("1 of 1 START hook: barometre.on-run-start.0 ..... [RUN]")
        print("1 of 1 OK hook: barometre.on-run-start.0 ..... [OK in 0.02s]")
        for node in range(1, 41):
            print(f"{node} of 40 START sql view model staging.m{node} ..... [RUN]")
            print(f"{node} of 40 OK created sql view model staging.m{node} ..... [OK in 0.1s]")
        print("1 of 1 OK hook: barometre.on-run-end.0 ..... [OK in 0.04s]")
    assert terminal.getvalue().splitlines() == [
        f"  dbt: {done}/40 nodes done" for done in range(4, 41, 4)
    ]
