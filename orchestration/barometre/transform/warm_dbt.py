"""The warm dbt process of a `barometre run`: dbt imported and the project parsed while the
run loads the editions, then the dbt step's build run in it (docs/performance.md,
"Session 9: a warm dbt process").

A `dbt build` pays ~3 s of imports, the parse (~5.7 s in full on a fresh warehouse, its
partial-parse check otherwise), ~0.5 s reading its state and registering its adapter
before its first node: on the critical path of every run. None of it needs the
warehouse or its data (a parse reads the project, the seeds' files and the profile; it
never opens the DuckDB file, so the one-writer rule is untouched). So `barometre run`
(DuckDB target) starts a child process when it starts (barometre.transform.
warm_dbt_server, the second core is idle while the run imports the pipeline and loads
the editions) which imports dbt, parses the project with `dbtRunner` (from the
warehouse's cached partial-parse state when there is one, as the step's own dbt would)
and waits. The run announces it (`announce`); the dbt step takes it (`take`, waiting for
its parse just before dbt starts) and has dagster-dbt start the shim
(barometre.transform.dbt_shim) instead of `dbt`: the build then runs in the warm
process with its parsed manifest (`dbtRunner(manifest=…)`), writing dbt's JSON lines into
dagster-dbt's own pipe. The parse's state is handed over to the warehouse's cache as a
build would have left it (never over an existing one after a full parse: another run
may have saved a newer state meanwhile).

A parse that fails or is not finished in time, a warm process that refuses the build
(the project's files or environment changed since its parse) or is gone: dbt runs as
before, the shim becoming the real dbt. The process serves one build, exits at the end
of its parent's pipe (the run ended, or was killed) and is stopped by the run in any
case; its folder (`warm-dbt-<pid of the run>-<random>` under dbt's target folder) is
removed, and those of runs killed by SIGKILL by the next run.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from barometre.common.processes import alive
from barometre.common.settings import Settings
from barometre.transform.dbt_shim import ENV_REAL_DBT, ENV_SOCKET
from barometre.transform.partial_parse import restore_partial_parse, save_partial_parse

WAIT_SECONDS = 300.0
"""Longest wait for the parse before the dbt step (then dropped: dbt parses itself)."""

PREFIX = "warm-dbt-"
"""A warm process's folder under dbt's target folder: `warm-dbt-<pid of the run>-<random>`."""
ABANDONED_PREFIXES = (PREFIX, "preparse-")
"""Folders of killed runs removed (`preparse-`: those of the background `dbt parse`
this process replaced)."""

SHIM = "barometre-dbt-shim"
"""The console script dagster-dbt starts instead of dbt (pyproject's [project.scripts])."""

ENV_SWITCH = "BAROMETRE_WARM_DBT"
"""`off` (or 0, false, no): no warm process, dbt started by the step as before (to
compare, or should anything go wrong with it)."""

SOCKET_PATH_MAX = 100
"""A Unix socket's path is at most ~104-108 bytes long."""


def remove_abandoned(target: Path) -> None:
    """Remove the folders of runs that no longer exist (a run killed by SIGKILL cannot
    remove its own); those of a live process are left alone."""
    for prefix in ABANDONED_PREFIXES:
        for folder in target.glob(f"{prefix}*"):
            pid = folder.name.removeprefix(prefix).split("-", 1)[0]
            if pid.isdigit() and not alive(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)


def shim_executable() -> Path:
    """The shim installed beside this Python (as dbt is)."""
    return Path(sys.executable).with_name(SHIM)


@dataclass(frozen=True)
class Parsed:
    """A warm process ready for the build: how long its parse took, and the step waited."""

    parse_seconds: float
    waited: float


class WarmDbt:
    """The warm dbt process of this run (parent side)."""

    def __init__(
        self,
        process: subprocess.Popen,
        folder: Path,
        socket_dir: Path,
        *,
        cold: bool,
        dbt_executable: Path,
    ) -> None:
        self.process = process
        self.folder = folder
        self.socket_dir = socket_dir
        self.socket_path = socket_dir / "s"
        self.cold = cold
        self.dbt_executable = dbt_executable
        self._buffer = b""

    def _line(self, timeout: float) -> str | None:
        """The process's next status line (None: none within `timeout`, or it ended)."""
        if self.process.stdout is None or self.process.stdout.closed:
            return None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                ready, _, _ = select.select([fd], [], [], left)
                data = os.read(fd, 4096) if ready else b""
            except (OSError, ValueError):
                return None
            if ready and not data:
                return None  # ended
            self._buffer += data
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode(errors="replace").strip()

    def wait_parsed(self, cache: Path, timeout: float = WAIT_SECONDS) -> Parsed | None:
        """Wait for the parse; when it succeeded, hand its state over to `cache` (unless
        a full parse would overwrite a state saved meanwhile) and say so; else None
        (the process is then stopped: dbt runs as before)."""
        started = time.monotonic()
        line = self._line(timeout) or ""
        if not line.startswith("ready "):
            self.close()
            return None
        if not (self.cold and cache.exists()):
            save_partial_parse(self.folder, cache)  # as the step's own dbt would leave it
        return Parsed(float(line.split()[1]), time.monotonic() - started)

    def outcome(self, timeout: float = 2.0) -> str | None:
        """After the step's dbt command: `served`, `refused <why>`, or None (not asked)."""
        line = self._line(timeout)
        return line or None

    def keep_parse_log(self, destination: Path) -> None:
        """Copy dbt's log of the parse (removed with this process's folder) there."""
        with contextlib.suppress(OSError):
            shutil.copy(self.folder / "dbt.log", destination)

    def environment(self) -> dict[str, str]:
        """What the shim reads to reach this process (and the real dbt, as fallback)."""
        return {ENV_SOCKET: str(self.socket_path), ENV_REAL_DBT: str(self.dbt_executable)}

    def close(self) -> None:
        """End the process (its parent pipe closed; then stopped if need be), and remove
        its folders."""
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(OSError):
            if self.process.stdout is not None:
                self.process.stdout.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        shutil.rmtree(self.socket_dir, ignore_errors=True)


def start_warm_dbt(settings: Settings, cache: Path) -> WarmDbt | None:
    """The warm dbt process of a `barometre run` on DuckDB, else None (PostgreSQL and
    Spark keep today's path; no shim installed: neither). `cache` is the warehouse's
    partial-parse state, restored for the parse as the step restores it. Call after
    `export_environment(settings)`: dbt reads the warehouse path from the environment."""
    if settings.target != "duckdb" or not shim_executable().is_file():
        return None
    if os.environ.get(ENV_SWITCH, "").strip().lower() in ("off", "0", "false", "no"):
        return None
    target = settings.dbt_project_dir / "target"
    with contextlib.suppress(OSError):
        target.mkdir(parents=True, exist_ok=True)
        remove_abandoned(target)
        socket_dir = Path(tempfile.mkdtemp(prefix="barometre-dbt-"))
        if len(str(socket_dir / "s")) > SOCKET_PATH_MAX:
            shutil.rmtree(socket_dir, ignore_errors=True)
            return None
        folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=target))
        cold = not cache.is_file()
        restore_partial_parse(cache, folder)
        project = settings.dbt_project_dir
        command = [
            sys.executable,
            "-u",  # unbuffered: dagster-dbt streams dbt's lines as they come
            "-m",
            "barometre.transform.warm_dbt_server",
            str(socket_dir / "s"),
            str(folder),
            str(project),
            str(settings.dbt_profiles_dir),
        ]
        try:
            with open(folder / "warm-dbt.log", "wb") as log:
                process = subprocess.Popen(
                    command,
                    cwd=project,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    start_new_session=True,  # signals reach it through the shim only
                )
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
            shutil.rmtree(socket_dir, ignore_errors=True)
            return None
        return WarmDbt(
            process, folder, socket_dir, cold=cold, dbt_executable=settings.dbt_executable
        )
    return None


_announced: dict[Path, WarmDbt] = {}
_announced_lock = threading.Lock()


def announce(cache: Path, warm: WarmDbt) -> None:
    """This run's warm dbt process, for the dbt step of this process building the
    warehouse whose parse state is `cache` (`take`)."""
    with _announced_lock:
        _announced[cache.resolve()] = warm


def withdraw() -> None:
    """Forget the warm processes no dbt step took (a run that ended before dbt)."""
    with _announced_lock:
        _announced.clear()


def take(cache: Path) -> tuple[WarmDbt, Parsed] | None:
    """The warm process announced for `cache`, once its parse is done (None: nothing
    announced, or its parse failed or was late: dbt then runs as before)."""
    with _announced_lock:
        warm = _announced.pop(cache.resolve(), None)
    if warm is None:
        return None
    parsed = warm.wait_parsed(cache)
    return None if parsed is None else (warm, parsed)
