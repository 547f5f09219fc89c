"""Ctrl-C noticed even when Dagster swallowed it.

`execute_in_process` replaces the SIGINT handler with one that only sets a flag, and
clears that flag when it leaves: a Ctrl-C that lands between two steps, or while the run
is being finalised, is lost, and `barometre run` would carry on to the next phase as if
nothing happened. The C-level signal handler also writes every signal's number to the
"wakeup fd" whatever Python handler is installed, so watching that pipe tells us, after
each Dagster execution, whether an interrupt arrived during it.
"""

from __future__ import annotations

import os
import signal
import threading
from types import TracebackType

_STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


class InterruptWatch:
    """`with InterruptWatch() as watch: …; watch.received()` — sticky once seen."""

    def __init__(self) -> None:
        self._seen = False
        self._read = self._write = -1
        self._previous = -1
        self._active = False

    def __enter__(self) -> InterruptWatch:
        if threading.current_thread() is threading.main_thread():
            self._read, self._write = os.pipe()
            os.set_blocking(self._read, False)
            os.set_blocking(self._write, False)
            self._previous = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
            self._active = True
        return self

    def received(self) -> bool:
        """Whether SIGINT or SIGTERM reached this process since the watch began."""
        while self._active and not self._seen:
            try:
                data = os.read(self._read, 512)
            except BlockingIOError:
                break
            if not data:
                break
            self._seen = any(number in _STOP_SIGNALS for number in data)
        return self._seen

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self._active:
            signal.set_wakeup_fd(self._previous)
            os.close(self._read)
            os.close(self._write)
            self._active = False
