"""The report's charts drawn by two engines at once, and kept between builds.

Two engines. vl-convert 1.x converts on one JavaScript engine per process, one chart at
a time, whatever the number of threads asking: a second engine runs in a worker process
(`chart_worker`, started with `python -m`, never forked from this process). The page
builder hands each chart out as it is built (`ChartDrawer.draw` returns a `Drawing`, an
SVG to come) and the page's template collects the SVGs as it writes them (`__html__`),
so the charts of a page, and of the pages rendered side by side, are spread over both
engines: each engine's lane takes the next chart waiting. The worker starts in the
background (`barometre run` starts it while dbt builds: `warm_up`); until it is ready,
or if it cannot start or fails, this process's engine draws everything. An engine draws
the same SVG as the other (the same vl-convert, the same spec): a page is byte for byte
the one drawn in one process.

The worker is bounded and never outlives the report: one process, stopped at the end of
each build (`stop_second_engine`, also at exit); it ends by itself at end of input, so
when this process exits or dies in any way (Ctrl-C, `os._exit`, a kill) it ends too; a
conversion it does not answer within SECOND_ENGINE_TIMEOUT seconds stops it and the chart
is drawn here.

Kept between builds: each SVG drawn is stored in the report folder's chart cache, and a
chart whose spec did not change is read from it instead (chart_cache).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import select
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from barometre.serve.report import chart_worker, charts
from barometre.serve.report.chart_cache import chart_key, entry_path, read_entry, write_entry

SECOND_ENGINE_TIMEOUT = 120.0
"""Seconds the worker may take to start, or to answer one conversion, before it is
stopped (the chart is then drawn in this process)."""


class _EngineLost(Exception):
    """The worker did not answer (ended, crashed, too slow)."""


def worker_command() -> list[str]:
    """The second engine's process: this interpreter, `-m` (never a fork of this
    process, which may hold Dagster's and DuckDB's threads)."""
    return [sys.executable, "-m", "barometre.serve.report.chart_worker", charts.VEGA_LITE_VERSION]


class _SecondEngine:
    """The worker process and the pipes to it; one request at a time."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            worker_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
            start_new_session=True,  # Ctrl-C reaches this process only, which decides
        )
        self.lock = threading.Lock()
        self.ready: bool | None = None
        """None until the worker said it is ready; False when it failed."""

    def _read(self, size: int, deadline: float) -> bytes:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        chunks, left = [], size
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise _EngineLost("no answer in time")
            chunk = os.read(fd, left)
            if not chunk:
                raise _EngineLost("ended")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _answer(self) -> bytes:
        deadline = time.monotonic() + SECOND_ENGINE_TIMEOUT
        (size,) = chart_worker.HEADER.unpack(self._read(chart_worker.HEADER.size, deadline))
        return self._read(size, deadline)

    def wait_ready(self) -> bool:
        """Wait for the worker's first frame: True when its engine runs."""
        with self.lock:
            if self.ready is None:
                try:
                    self.ready = self._answer() == chart_worker.READY
                except (_EngineLost, OSError, ValueError):
                    self.ready = False
                if not self.ready:
                    self._stop()
            return self.ready

    def convert(self, spec_json: bytes) -> str | None:
        """The worker's SVG of a spec; None when it reported an error converting it."""
        with self.lock:
            if not self.ready:
                raise _EngineLost("not running")
            assert self.process.stdin is not None
            try:
                chart_worker.write_frame(self.process.stdin, spec_json)
                answer = self._answer()
            except (_EngineLost, OSError, ValueError) as err:
                self.ready = False
                self._stop()
                raise _EngineLost(str(err)) from None
            return answer[1:].decode() if answer[:1] == b"+" else None

    def _stop(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        try:
            self.process.wait(timeout=2)  # it ends at end of input
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        """End the worker: idle, by the end of its input; starting or converting, killed
        (it holds nothing), and the lane waiting for it gets an error and lets go."""
        if self.lock.acquire(blocking=False):
            try:
                if not self.ready:
                    with contextlib.suppress(OSError):
                        self.process.kill()
                self.ready = False
                self._stop()
            finally:
                self.lock.release()
        else:
            with contextlib.suppress(OSError):
                self.process.kill()


_second: _SecondEngine | None = None
_second_lock = threading.Lock()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def start_second_engine() -> _SecondEngine | None:
    """Start the worker process (once; None on a single core or when it cannot start)."""
    global _second
    with _second_lock:
        if _second is None and _cores() >= 2:
            try:
                _second = _SecondEngine()
            except OSError:
                return None
        return _second


def stop_second_engine() -> None:
    """Stop the worker process, if one runs (it ends at end of its input)."""
    global _second
    with _second_lock:
        engine, _second = _second, None
    if engine is not None:
        engine.stop()


atexit.register(stop_second_engine)


def warm_up() -> None:
    """Start both engines: the worker process, and this process's engine (its first
    conversion, about a second). `barometre run` calls it in a background thread while
    dbt builds (serve/cli/run.py PRELOADED_FOR_THE_REPORT), so the report step waits for
    neither; the worker's own start runs in its process meanwhile."""
    start_second_engine()
    charts.warm_up()


# --------------------------------------------------------------------------- drawing


class Drawing:
    """A chart being drawn: its SVG when the page's template writes it (`__html__`)."""

    __slots__ = ("_future",)

    def __init__(self, future: Future[str]) -> None:
        self._future = future

    def __html__(self) -> str:
        return self._future.result()

    __str__ = __html__


@dataclass
class PageCharts:
    """The renderer of one page (page.py `Renderer`): its charts' keys, in order, and how
    many of them were drawn rather than read from the cache."""

    drawer: ChartDrawer
    keys: list[str] = field(default_factory=list)
    drawn: int = 0

    def __call__(self, chart: Any) -> Drawing:
        key, drawing, drawn = self.drawer.draw(chart)
        self.keys.append(key)
        self.drawn += drawn
        return drawing


_STOP = None


class ChartDrawer:
    """Draws charts on this process's engine and the worker's, from a shared queue, and
    stores/reads them in `cache` (None: no cache; `read_cache` False: draw every chart,
    store it still). Close it (a context manager) when the pages are written."""

    def __init__(
        self,
        cache: Path | None,
        renderer: str,
        *,
        read_cache: bool = True,
        second_engine: bool = True,
    ) -> None:
        self.cache, self.renderer, self.read_cache = cache, renderer, read_cache
        self.drawn_here = 0
        self.drawn_by_worker = 0
        """Conversions by each engine (what the cache did not give)."""
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[tuple[str, dict, bytes, Future[str]] | None] = (
            queue.SimpleQueue()
        )
        self._pending: dict[str, Future[str]] = {}
        self._lanes = [threading.Thread(target=self._local_lane, daemon=True)]
        engine = start_second_engine() if second_engine else None
        if engine is not None:
            self._lanes.append(
                threading.Thread(target=self._second_lane, args=(engine,), daemon=True)
            )
        for lane in self._lanes:
            lane.start()

    def page(self) -> PageCharts:
        return PageCharts(self)

    def draw(self, chart: Any) -> tuple[str, Drawing, bool]:
        """A chart's key, its Drawing, and whether it is drawn (False: from the cache, or
        the same chart already being drawn for another page)."""
        spec = charts.spec_of(chart)
        spec_json = json.dumps(spec, ensure_ascii=False, separators=(",", ":")).encode()
        key = chart_key(spec_json, self.renderer)
        with self._lock:
            pending = self._pending.get(key)
            if pending is not None:
                return key, Drawing(pending), False
            future: Future[str] = Future()
            self._pending[key] = future
        stored = read_entry(entry_path(self.cache, key)) if self.cache and self.read_cache else None
        if stored is not None:
            future.set_result(stored)
            return key, Drawing(future), False
        self._jobs.put((key, spec, spec_json, future))
        return key, Drawing(future), True

    def _done(self, key: str, future: Future[str], raw: str, *, here: bool) -> None:
        svg = charts.accessible(raw)
        with self._lock:
            if here:
                self.drawn_here += 1
            else:
                self.drawn_by_worker += 1
        if self.cache is not None:
            write_entry(entry_path(self.cache, key), svg)
        future.set_result(svg)

    def _draw_here(self, job: tuple[str, dict, bytes, Future[str]], started: bool) -> None:
        key, spec, _json, future = job
        if not started and not future.set_running_or_notify_cancel():
            return  # cancelled: the build stopped
        try:
            raw = charts.convert(spec)
        except BaseException as err:  # raised where the page writes the chart
            future.set_exception(err)
            return
        self._done(key, future, raw, here=True)

    def _local_lane(self) -> None:
        while (job := self._jobs.get()) is not _STOP:
            self._draw_here(job, started=False)

    def _second_lane(self, engine: _SecondEngine) -> None:
        if not engine.wait_ready():
            return  # this process's lane draws everything
        while (job := self._jobs.get()) is not _STOP:
            key, _spec, spec_json, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                raw = engine.convert(spec_json)
            except _EngineLost:
                self._draw_here(job, started=True)
                return
            if raw is None:  # the worker could not convert it: drawn here, for the error
                self._draw_here(job, started=True)
            else:
                self._done(key, future, raw, here=False)

    def cancel(self) -> None:
        """Drop the charts not started (a failed or interrupted build): a page waiting
        for one gets a CancelledError instead of waiting for the queue to be drawn."""
        with self._lock:
            pending = list(self._pending.values())
        for future in pending:
            future.cancel()  # only those not started

    def close(self) -> None:
        """Stop the lanes and the worker; after a failed build, the lanes end after the
        chart they draw (the others were cancelled)."""
        self.cancel()
        for _lane in self._lanes:
            self._jobs.put(_STOP)
        stop_second_engine()
        for lane in self._lanes:
            lane.join(timeout=SECOND_ENGINE_TIMEOUT)

    def __enter__(self) -> ChartDrawer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
