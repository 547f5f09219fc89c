"""The dbt resource: dagster-dbt's `DbtCliResource` without two costs this project does
not use (docs/performance.md, P1).

Before each `dbt build` dagster-dbt 0.29 (1) runs `dbt --version` to tell dbt Core from
the Fusion engine (a whole dbt start, which also asks PyPI for the latest release: slow
and network-dependent), and (2) builds a dbt Core adapter inside the Dagster process
(imports dbt's adapter, reads the profile and project) whose only use is to fetch row
counts or column metadata after each model (`.fetch_row_counts()`,
`.fetch_column_metadata()`), which our dbt assets never ask for. Here (1) reads the
version of the dbt-core package installed beside the dbt executable, when it is this
environment's, and (2) is skipped: the dbt invocation, its events and its asset checks
are the same.

(3) dbt's output is read as it comes, by a thread of its own (`DrainedPipe`): dagster-dbt
reads a line only when Dagster has turned the previous one into events and stored them
(~10 ms each), so dbt, writing into a full pipe (64 KiB, a few nodes' lines), waited
for Dagster after every few nodes. The lines now wait in memory (at most
`DrainedPipe.MAX_LINES`, then dbt waits as before) and Dagster turns every one into the
same events, in the same order, each stored as it is made.

(4) dbt's log file (`dbt.log` in the invocation's target folder) is written as a bare
`dbt build` writes it (`--log-format-file debug`: text, every debug event): dagster-dbt
asks for JSON log lines (`DBT_LOG_FORMAT=json`, which it parses from stdout), and dbt
then writes its file log as JSON too: 5× the bytes, each of its ~8,000 debug events
serialised through protobuf's JSON printer (~1 s of dbt's time on the sample).

(5) Given the run's warm dbt process (`cli(…, warm=…)`: barometre.transform.warm_dbt),
dagster-dbt starts the shim instead of dbt, with the variables that lead it to that
process: the build runs there, with the project parsed already (the same arguments,
environment, output and exit code; the shim runs the real dbt when the process cannot).
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
from collections.abc import Iterator, Sequence
from functools import cached_property
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import IO, Any, cast

from dagster_dbt import DbtCliResource
from packaging import version

_END = object()

FILE_LOG_ARGS = ("--log-format-file", "debug")
"""dbt's file log as a bare `dbt build` writes it (see (4) in the module doc)."""


class DrainedPipe:
    """A child's stdout read by a thread of its own into a bounded queue, iterated like
    the pipe (bytes lines, then the end). Leaving it early (`close`, an error or an
    interrupt in the reader of the lines) never blocks: the thread reads on until the
    child ends, dropping the lines, and closes the pipe."""

    MAX_LINES = 100_000
    """Lines held at most (dbt writes a few per node); beyond, dbt waits for Dagster."""

    POLL_SECONDS = 0.2
    """The reader of the lines waits this long at a time, so Dagster's interrupt (a
    signal handled in the main thread) is seen while it waits."""

    def __init__(self, pipe: Any) -> None:
        self._pipe = pipe
        self._lines: queue.Queue = queue.Queue(self.MAX_LINES)
        self._left = threading.Event()
        self.closed = False
        threading.Thread(target=self._read, name="barometre-dbt-stdout", daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self._pipe:
                while not self._left.is_set():
                    try:
                        self._lines.put(line, timeout=self.POLL_SECONDS)
                        break
                    except queue.Full:
                        continue
        finally:
            self._pipe.close()
            while not self._left.is_set():
                try:
                    self._lines.put(_END, timeout=self.POLL_SECONDS)
                    break
                except queue.Full:
                    continue

    def __iter__(self) -> Iterator[bytes]:
        while not self.closed:
            try:
                line = self._lines.get(timeout=self.POLL_SECONDS)
            except queue.Empty:
                continue
            if line is _END:
                return
            yield line

    def close(self) -> None:
        self.closed = True
        self._left.set()

    def __enter__(self) -> DrainedPipe:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class BarometreDbtCliResource(DbtCliResource):
    """`DbtCliResource` that neither starts dbt to read its version nor builds an adapter."""

    @cached_property
    def _cli_version(self) -> version.Version:
        executable = Path(self.dbt_executable)
        if executable.parent.resolve() == Path(sys.executable).parent.resolve():
            try:  # this environment's dbt: the dbt-core installed here
                return version.parse(package_version("dbt-core"))
            except PackageNotFoundError:
                pass
        return super()._cli_version  # another dbt: ask it, as dagster-dbt does

    def cli(self, args: Sequence[str], *, warm: Any = None, **kwargs: Any) -> Any:
        if FILE_LOG_ARGS[0] not in args:
            args = [*args, *FILE_LOG_ARGS]
        if warm is not None:  # see (5) in the module doc
            from barometre.transform.warm_dbt import shim_executable

            shim = self.model_copy(update={"dbt_executable": str(shim_executable())})
            with _environment(warm.environment()):
                invocation = DbtCliResource.cli(shim, args, **kwargs)
        else:
            invocation = super().cli(args, **kwargs)
        if invocation.process.stdout is not None:  # see (3) in the module doc
            # a file-like stand-in for the pipe (read, readline, iteration, close)
            invocation.process.stdout = cast(IO[bytes], DrainedPipe(invocation.process.stdout))
        return invocation

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        return None  # only used to fetch row counts / column metadata: never asked here


@contextlib.contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    """`variables` in this process's environment while dagster-dbt starts its child (it
    copies the environment then): the shim's, for this one invocation only."""
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
