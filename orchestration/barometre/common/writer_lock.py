"""One writer of the working warehouse at a time, refused or waited for in one line.

DuckDB locks its file while a writer is connected, but a second writer only learns it
by failing midway (a traceback per step, an edition half-reported). Every writer of
the working warehouse therefore takes this lock first: `barometre run`, `barometre
publish`, and the asset bodies of the Dagster jobs (ingestion, dbt, publish) that the
daemon or the UI launch. It is an `flock` on `<warehouse>.writer.lock`, released by
the kernel even when the holder is killed; the file records the holder's pid, command
and start time, so a refusal can name them.

The lock is re-entrant within a process: `barometre run` holds it for the whole run,
and the assets it executes in-process find it already held.

Taking the lock also keeps the working area private (owner-only permissions on the
warehouse file, its write-ahead log and the lock file; see file_modes).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from barometre.common.file_modes import private_dir, private_file

if TYPE_CHECKING:
    from dagster import AssetExecutionContext

LOCK_SUFFIX = ".writer.lock"
_POLL_SECONDS = 0.2

WAREHOUSE_TAG = "barometre/warehouse"
"""Tag of every run that writes the working warehouse (one writer at a time: see
docs/operations.md, `concurrency` in DAGSTER_HOME/dagster.yaml)."""
WRITER_TAGS = {WAREHOUSE_TAG: "writer"}

_held: dict[Path, int] = {}
"""Lock files this process holds, with their re-entry count."""


class WarehouseBusy(Exception):
    """Another process writes the working warehouse; the message is one line."""


@dataclass(frozen=True)
class Holder:
    pid: int | None
    command: str
    started_at: str

    def describe(self) -> str:
        pid = f"pid {self.pid}" if self.pid else "an unknown process"
        return f"{pid} ({self.command}), since {self.started_at}"


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + LOCK_SUFFIX)


def read_holder(warehouse: Path) -> Holder:
    """Who holds (or last held) the lock, as recorded in the lock file."""
    try:
        data = json.loads(lock_path(warehouse).read_text(encoding="utf-8"))
        return Holder(int(data["pid"]), str(data["command"]), str(data["started_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return Holder(None, "holder not recorded yet", "a moment ago")


def current_command() -> str:
    """This process's command line, shortened for a one-line message."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    text = " ".join([name, *sys.argv[1:]])
    return text if len(text) <= 120 else text[:117] + "…"


def busy_message(warehouse: Path, waited: float, setting: str) -> str:
    return (
        f"the working warehouse {warehouse} is being written by "
        f"{read_holder(warehouse).describe()}; waited {waited:.0f} s ({setting}). "
        "Run again when it is done (`barometre status` shows the runs)."
    )


def spill_folder(warehouse: Path) -> Path:
    """Where DuckDB spills a connection to `warehouse` beyond its memory limit (its default
    `temp_directory`: dbt's builds, bounded by BAROMETRE_DBT_MEMORY_LIMIT)."""
    return warehouse.with_name(warehouse.name + ".tmp")


def secure_working_files(warehouse: Path) -> None:
    """Owner-only modes on the working file and what DuckDB writes beside it.

    The spill folder is created here, 0700, before any writer opens the file: DuckDB
    creates a missing one 0755 with files 0644 under the process's umask (dbt started
    by a Dagster deployment that does not set `barometre`'s 077), and they hold
    whatever the spilled query held. DuckDB keeps a folder it did not create (empty
    between runs) and only removes its own files from it."""
    for path in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        private_file(path)
    private_dir(spill_folder(warehouse))


@contextlib.contextmanager
def writer_lock(
    warehouse: Path,
    command: str | None = None,
    *,
    wait: float = 0.0,
    setting: str = "BAROMETRE_WRITER_WAIT_SECONDS",
    on_wait: Callable[[str], None] | None = None,
    keep_dir_searchable: bool = False,
) -> Iterator[None]:
    """Hold the writer lock of `warehouse`, waiting at most `wait` seconds for it.

    Raises WarehouseBusy (one line naming the holder and since when) when it stays
    held. `on_wait` is told once when we start waiting. `keep_dir_searchable` leaves
    the warehouse folder traversable by others (0711) when the published copy lives
    inside it.
    """
    warehouse = Path(warehouse).resolve()
    path = lock_path(warehouse)
    if path in _held:
        _held[path] += 1
        try:
            yield
        finally:
            # The outer holder may already be gone: an asset body suspended by Ctrl-C is
            # closed by the garbage collector after `barometre run` released the lock.
            if path in _held:
                _held[path] -= 1
        return

    private_dir(warehouse.parent, searchable=keep_dir_searchable)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        private_file(path)
        started = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                if waited >= wait:
                    raise WarehouseBusy(busy_message(warehouse, waited, setting)) from None
                if on_wait and not told:
                    on_wait(
                        f"waiting (up to {wait:.0f} s) for {read_holder(warehouse).describe()}, "
                        f"which is writing {warehouse}…"
                    )
                    told = True
                time.sleep(min(_POLL_SECONDS, max(wait - waited, 0.01)))
        record = {
            "pid": os.getpid(),
            "command": command or current_command(),
            "started_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        _held[path] = 1
        secure_working_files(warehouse)
        try:
            yield
        finally:
            _held.pop(path, None)
            secure_working_files(warehouse)
    finally:
        os.close(fd)  # releases the flock


def hold_working_warehouse(
    command: str | None = None, *, on_wait: Callable[[str], None] | None = None
) -> contextlib.AbstractContextManager[None]:
    """The writer lock of the configured working warehouse, with the configured wait."""
    from barometre.common.settings import ENV_WRITER_WAIT, get_settings

    settings = get_settings()
    return writer_lock(
        settings.warehouse,
        command,
        wait=settings.writer_wait,
        setting=ENV_WRITER_WAIT,
        on_wait=on_wait,
        keep_dir_searchable=settings.published_inside_warehouse_dir,
    )


@contextlib.contextmanager
def dagster_writer(context: AssetExecutionContext, warehouse: Path | None = None) -> Iterator[None]:
    """The writer lock around a Dagster asset body: a refusal is a clean `Failure`."""
    from dagster import Failure

    from barometre.common.settings import ENV_WRITER_WAIT, get_settings

    settings = get_settings()
    command = f"dagster run {context.run.run_id[:8]} ({context.run.job_name})"
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(
                writer_lock(
                    warehouse or settings.warehouse,
                    command,
                    wait=settings.writer_wait,
                    setting=ENV_WRITER_WAIT,
                    on_wait=context.log.info,
                    keep_dir_searchable=settings.published_inside_warehouse_dir,
                )
            )
        except WarehouseBusy as err:
            raise Failure(description=str(err), allow_retries=False) from None
        yield


@contextlib.contextmanager
def reading(warehouse: Path) -> Iterator[bool]:
    """A short read of the working file by a command such as `status`: yields False
    (read nothing) while a writer holds the lock, else holds a shared lock so that no
    writer starts, and fails on DuckDB's lock, in the middle of the read."""
    warehouse = Path(warehouse).resolve()
    path = lock_path(warehouse)
    if path in _held:  # this process is the writer
        yield True
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
