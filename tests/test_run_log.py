"""The run log keeps everything; the terminal gets dbt's summary and error lines only."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from barometre.run_log import captured, new_log_path


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
        "  dbt: Done. PASS=2 WARN=0 ERROR=1 SKIP=0 TOTAL=3",
        "after",
    ]
