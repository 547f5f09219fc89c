"""Worker processes that read blocks of a large sheet while the reading process reads others.

The reading process inflates the sheet, cuts it into blocks of whole rows and hands a
block to a worker whenever one has room (at most `IN_FLIGHT` blocks each), else reads
the block itself; the spool text comes back in block order, so the spool is the same
whichever process read a block. Blocks and their spool text pass through files of the
private spool folder (a message on a pipe only names them), so no pipe ever fills and
neither side waits on the other's reading; memory stays a few blocks per worker.

A worker is a fresh interpreter (`python -m barometre.ingest.xlsx_workers`), never a
fork: the reading process may be a Dagster step or code server with threads of its own.
It loads the sheet's shared strings once (pickled by the reading process into the
private folder), then reads the blocks it is sent with the same code as the reading
process (xlsx_stream.py, xlsx_spool.py). An error in a block comes back as the same
IngestError; a worker that stops or stalls is an error naming BAROMETRE_XLSX_WORKERS,
never a hang.

BAROMETRE_XLSX_WORKERS: how many workers (default: one less than the usable CPUs, at
most 2, unless the load average says every core is busy; 0 reads the sheet in one
process). Only sheets of at least `PARALLEL_FROM`
bytes of XML use them: below that a worker's start (~0.1 s) costs more than it saves.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from barometre.ingest.errors import IngestError

ENV_WORKERS = "BAROMETRE_XLSX_WORKERS"
MAX_WORKERS = 8
PARALLEL_FROM = 8 << 20
"""bytes of sheet XML from which workers are used"""
IN_FLIGHT = 2
"""blocks handed to one worker and not yet spooled: one read, one waiting"""
STALL_SECONDS = 300.0
"""a worker silent this long on one block (a block takes ~0.05 s) is stopped"""
_HINT = f"read it again; if this persists, set {ENV_WORKERS}=0 to read the sheet in one process"


def worker_count() -> int:
    """Workers to use for a large sheet (BAROMETRE_XLSX_WORKERS, else from the CPUs)."""
    raw = os.environ.get(ENV_WORKERS, "").strip()
    if raw == "":
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        cpus = cpus or 1
        # A worker only pays on a core not kept busy: on cores others keep busy it adds its
        # overhead (~10 % more CPU) and gains nothing (docs/performance.md "Session 6:
        # P3"). The load average counts this process's own recent work too: all cores
        # busy is the bar, not one.
        if os.getloadavg()[0] >= cpus:
            return 0
        return max(0, min(cpus - 1, 2))
    if not raw.isdigit() or int(raw) > MAX_WORKERS:
        raise IngestError(
            f"setting {ENV_WORKERS}={raw!r} is not a whole number from 0 to {MAX_WORKERS}",
            hint=f"set {ENV_WORKERS} to 0 (one process) … {MAX_WORKERS}, or unset it",
        )
    return int(raw)


@dataclass(frozen=True)
class Outcome:
    """What a worker says of one block: spooled (`first`, `last`, `longest`, its text in
    `spool`), or why not."""

    first: int | None = None
    last: int | None = None
    longest: int = 0
    spool: Path | None = None
    error: dict[str, Any] | None = None
    """an IngestError's fields"""
    unreadable: str | None = None
    """the class of another exception (the workbook is unreadable)"""
    exact: bool = False
    """NeedsExactReader: a cell only openpyxl renders"""
    unnumbered: bool = False


class Worker:
    """One worker process and its blocks in flight (oldest first)."""

    def __init__(self, folder: Path, index: int) -> None:
        self.folder, self.index = folder, index
        self.in_flight: list[int] = []
        package_root = str(Path(__file__).resolve().parents[2])
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, path]))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "barometre.ingest.xlsx_workers"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=folder,
        )
        self._replies = b""

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(line.encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._stopped() from None

    def submit(self, seq: int, block: bytes) -> None:
        (self.folder / f"in-{seq}").write_bytes(block)
        self.send(str(seq))
        self.in_flight.append(seq)

    def ready(self) -> bool:
        """Whether the reply on the oldest block in flight has arrived (never waits)."""
        if b"\n" in self._replies:
            return True
        assert self.process.stdout is not None
        return bool(select.select([self.process.stdout], [], [], 0)[0])

    def outcome(self) -> Outcome:
        """The reply on the oldest block in flight (waits for it, never for ever)."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        waited = 0.0
        while b"\n" not in self._replies:
            began = time.monotonic()
            if select.select([fd], [], [], 1.0)[0]:
                data = os.read(fd, 1 << 16)
                if not data:
                    raise self._stopped()
                self._replies += data
            else:
                waited += time.monotonic() - began
                if self.process.poll() is not None:
                    raise self._stopped()
                if waited > STALL_SECONDS:
                    self.stop()
                    raise IngestError(
                        f"the XLSX reader's worker process gave no answer on a block of the "
                        f"sheet for {STALL_SECONDS:.0f} s and was stopped",
                        hint=_HINT,
                    )
        line, self._replies = self._replies.split(b"\n", 1)
        seq = self.in_flight.pop(0)
        reply = json.loads(line)
        spool = self.folder / f"out-{seq}"
        return Outcome(**reply, spool=spool if "first" in reply else None)

    def _stopped(self) -> IngestError:
        self.stop()
        return IngestError(
            f"the XLSX reader's worker process stopped (exit code {self.process.returncode}) "
            "before it had read its blocks of the sheet",
            hint=_HINT,
        )

    def stop(self) -> None:
        """End the process: its input closed (it exits), else killed; reap it."""
        if self.process.stdin and not self.process.stdin.closed:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


def start(folder: Path, count: int) -> list[Worker]:
    """Up to `count` workers; fewer (down to none: one process) if the system cannot
    start more (no interpreter to run, out of processes): the read goes on."""
    workers: list[Worker] = []
    for index in range(count):
        try:
            workers.append(Worker(folder, index))
        except OSError:
            break
    return workers


def write_config(folder: Path, config: dict[str, Any]) -> None:
    """What every worker needs, once: the path, the shared strings, the header's width…"""
    with (folder / "config.pickle").open("wb") as handle:
        pickle.dump(config, handle, protocol=pickle.HIGHEST_PROTOCOL)


def copy_into(spool: BinaryIO, part: Path) -> None:
    """Append a worker's spool text for one block to the spool (in the kernel), then drop it."""
    with part.open("rb") as source:
        spool.flush()
        size = os.fstat(source.fileno()).st_size
        offset = 0
        try:
            while offset < size:
                sent = os.sendfile(spool.fileno(), source.fileno(), offset, size - offset)
                if sent == 0:
                    break
                offset += sent
        except OSError:
            source.seek(offset)
            spool.write(source.read())
    part.unlink()


def _serve() -> None:
    """The worker: read the blocks named on stdin, spool each, reply one line each."""
    # Ctrl-C reaches the whole process group: the reading process handles it (and stops
    # its workers); a worker printing its own traceback would only be noise.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from barometre.ingest.xlsx_spool import Unnumbered, spool_block
    from barometre.ingest.xlsx_stream import Cells, Framing, NeedsExactReader, block_rows

    folder = Path.cwd()
    config: dict[str, Any] | None = None
    cells: Cells | None = None
    framing: Framing | None = None
    for line in sys.stdin.buffer:
        seq = line.strip().decode()
        if config is None:  # the first block: load what every block needs
            with (folder / "config.pickle").open("rb") as handle:
                config = pickle.load(handle)
            path = Path(config["path"])
            cells = Cells(path, config["shared"], config["date_styles"])
            cells.column_limit = config["column_limit"]
            framing = config["framing"]
        assert cells is not None and framing is not None
        block_file = folder / f"in-{seq}"
        reply: dict[str, Any]
        try:
            rows = block_rows(block_file.read_bytes(), framing, cells)
            spooled = spool_block(path, rows, None, config["width"], cells)
            (folder / f"out-{seq}").write_bytes(spooled.text.encode())
            block_file.unlink()
            reply = {"first": spooled.first, "last": spooled.last, "longest": spooled.longest}
        except IngestError as exc:
            fields = ("problem", "file", "row", "column", "value", "hint")
            reply = {"error": {k: getattr(exc, k) for k in fields}}
        except NeedsExactReader:
            reply = {"exact": True}
        except Unnumbered:
            reply = {"unnumbered": True}
        except Exception as exc:  # a bad file raises many types (as in read_xlsx)
            reply = {"unreadable": exc.__class__.__name__}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    try:
        _serve()
    except BrokenPipeError:  # the reading process is gone (killed): nothing to answer
        os._exit(1)
