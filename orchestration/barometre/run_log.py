"""The full log of a `barometre run` goes to a file; the terminal gets the essentials.

dbt's own output (hundreds of lines per build) is written by dagster-dbt to
sys.stdout; during a run it goes to the log file, and only dbt's summary and error
lines reach the terminal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

_ESSENTIAL = re.compile(r"^(Done\. PASS=|Completed with \d+ error|.*\b(ERROR|FAIL)\b)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class _Tee(io.TextIOBase):
    """Writes everything to `log`, and the essential lines to `terminal`."""

    def __init__(self, log: TextIO, terminal: TextIO) -> None:
        self._log, self._terminal, self._pending = log, terminal, ""

    def write(self, text: str) -> int:
        self._log.write(text)
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            clean = _ANSI.sub("", line).strip()
            if _ESSENTIAL.match(clean):
                self._terminal.write(f"  dbt: {clean}\n")
        return len(text)

    def flush(self) -> None:
        self._log.flush()
        self._terminal.flush()


def new_log_path(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"run-{dt.datetime.now():%Y%m%d-%H%M%S}.log"


@contextlib.contextmanager
def captured(log_path: Path) -> Iterator[None]:
    """Send sys.stdout to `log_path` (appending), echoing the essential lines."""
    terminal = sys.stdout
    with (
        log_path.open("a", encoding="utf-8") as log,
        contextlib.redirect_stdout(_Tee(log, terminal)),
    ):
        yield
