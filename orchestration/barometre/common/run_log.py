"""The full log of a `barometre run` goes to a file; the terminal gets the essentials.

dbt's own output (hundreds of lines per build) is written by dagster-dbt to
sys.stdout; during a run it goes to the log file; only dbt's summary and error lines,
and a progress line each tenth of the build (nodes done / total), reach the terminal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from barometre.common.console import describe_os_error
from barometre.common.file_modes import open_private, private_dir

_ESSENTIAL = re.compile(r"^(Done\. PASS=|Completed with \d+ error|.*\b(ERROR|FAIL)\b)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_NODE_DONE = re.compile(r"^\d+ of (\d+) (OK|PASS|WARN|ERROR|FAIL|SKIP|NO-OP) (?!hook:)")
"""A node of the build finished; not a project hook (`1 of 1 OK hook: …on-run-start.0`),
numbered apart from the nodes: counted, it made the progress read `358/1 nodes done`."""


class _Tee(io.TextIOBase):
    """Writes everything to `log`, and the essential lines to `terminal`.

    A log that cannot be written (disk full) is given up with one warning line: the
    run's own outcome does not depend on its log."""

    def __init__(
        self, log: TextIO | None, terminal: TextIO, path: Path, stderr: TextIO | None = None
    ) -> None:
        self._log, self._terminal, self._path, self._pending = log, terminal, path, ""
        self._nodes_done, self._next_step = 0, 1
        """progress of a dbt build: nodes finished, and the next tenth to report"""
        self._stderr = stderr or sys.stderr
        """the real terminal's standard error (fd 2 itself goes to the log meanwhile)"""

    def _give_up(self, err: OSError) -> None:
        log, self._log = self._log, None
        if log is not None:
            with contextlib.suppress(OSError):
                log.close()
        if err.filename is None:
            err.filename = str(self._path)
        print(
            f"warning: the run log stops here: {describe_os_error(err)}. "
            "The run goes on; its progress stays on this terminal.",
            file=self._stderr,
            flush=True,
        )

    def write(self, text: str) -> int:
        if self._log is not None:
            try:
                self._log.write(text)
            except OSError as err:
                self._give_up(err)
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            clean = _ANSI.sub("", line).strip()
            if _ESSENTIAL.match(clean):
                self._terminal.write(f"  dbt: {clean}\n")
            if done := _NODE_DONE.match(clean):
                self._progress(int(done.group(1)))
        return len(text)

    def _progress(self, total: int) -> None:
        """A progress line each tenth of a dbt build (nodes finish in any order)."""
        self._nodes_done += 1
        if self._nodes_done * 10 >= self._next_step * total:
            self._next_step = self._nodes_done * 10 // total + 1
            self._terminal.write(f"  dbt: {self._nodes_done}/{total} nodes done\n")

    def flush(self) -> None:
        if self._log is not None:
            try:
                self._log.flush()
            except OSError as err:
                self._give_up(err)
        self._terminal.flush()

    def close_stderr(self) -> None:
        if self._stderr is not sys.stderr:
            with contextlib.suppress(OSError):
                self._stderr.close()

    def close_log(self) -> None:
        if self._log is not None:
            try:
                self._log.close()
            except OSError as err:
                self._give_up(err)
            self._log = None


def new_log_path(folder: Path) -> Path:
    """A new log file name in `folder`, created owner-only (0700: logs name files and
    quote the failing cells)."""
    private_dir(folder)
    return folder / f"run-{dt.datetime.now():%Y%m%d-%H%M%S}.log"


def _open_log(log_path: Path) -> TextIO:
    return open_private(log_path, "a")


@contextlib.contextmanager
def captured(log_path: Path) -> Iterator[None]:
    """Send sys.stdout to `log_path` (appending, 0600), echoing the essential lines.

    Standard error goes to the log too, at the file-descriptor level: Dagster's own
    error records (with their stack traces) and its helper processes (compute-log
    tails, which print a KeyboardInterrupt traceback each on Ctrl-C) write there. The
    CLI prints its own one-line messages after the run, on the real terminal."""
    terminal = sys.stdout
    saved_fd = os.dup(2)
    tee = _Tee(None, terminal, log_path, os.fdopen(os.dup(saved_fd), "w", encoding="utf-8"))
    try:
        tee._log = _open_log(log_path)
    except OSError as err:
        tee._give_up(err)
    devnull: int | None = None
    if tee._log is not None:
        target = tee._log.fileno()
    else:
        devnull = target = os.open(os.devnull, os.O_WRONLY)
    sys.stderr.flush()
    os.dup2(target, 2)
    try:
        with contextlib.redirect_stdout(tee):
            yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        if devnull is not None:
            os.close(devnull)
        tee.close_log()
        tee.close_stderr()
