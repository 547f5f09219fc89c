"""dbt's partial-parse state kept between runs, per warehouse (no dbt or Dagster import:
the CLI's background parse uses it too, barometre.serve.cli.preparse).

dbt writes `partial_parse.msgpack` in its target folder after parsing; each dbt step
has a target folder of its own, so the state is copied to a cache file before the build
(`restore_partial_parse`) and back after it (`save_partial_parse`): every run after the
first reuses the parsed project (barometre.transform.dbt_assets.partial_parse_cache).

A state still being made in the background (a cold `barometre run` parses the project
while it loads the editions: barometre.serve.cli.preparse) is announced for its cache
file (`announce_state`) and waited for by the dbt step itself (`await_state`), as late
as possible: what comes before the step (Dagster creating the transform run, ~2 s of
this process's CPU) runs while the parse ends on the other core.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

PARTIAL_PARSE = "partial_parse.msgpack"
"""What dbt writes in its target folder after parsing (dbt's own name)."""


def restore_partial_parse(cache: Path, target: Path) -> None:
    """Put the cached state (if any) where dbt, run with `target`, looks for it."""
    if cache.is_file():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(cache, target / PARTIAL_PARSE)


def save_partial_parse(target: Path, cache: Path) -> bool:
    """Copy the state dbt left in `target` to `cache`, atomically (a concurrent run reads
    the old or the new file); whether there was one."""
    produced = target / PARTIAL_PARSE
    if not produced.is_file():
        return False
    cache.parent.mkdir(parents=True, exist_ok=True)
    staging = cache.with_name(f".{cache.name}.{uuid.uuid4().hex[:7]}")
    shutil.copy(produced, staging)
    os.replace(staging, cache)
    forget_unused(cache.parent)
    return True


UNUSED_DAYS = 30
"""A warehouse's state not saved again for this long is removed (its warehouse was most
likely deleted: tests, benchmarks, a moved file; if not, its next build parses once)."""


def forget_unused(folder: Path, days: float = UNUSED_DAYS) -> list[Path]:
    """Remove the states in `folder` (one per warehouse path, ~2 MB each) that no build
    saved for `days` days; those removed."""
    horizon = time.time() - days * 86400
    removed = []
    for state in folder.glob(f"*{Path(PARTIAL_PARSE).suffix}"):
        try:
            if state.stat().st_mtime < horizon:
                state.unlink()
                removed.append(state)
        except OSError:  # removed meanwhile
            continue
    return removed


_announced: dict[Path, Callable[[Path], bool]] = {}
_announced_lock = threading.Lock()


def announce_state(cache: Path, hand_over: Callable[[Path], bool]) -> None:
    """A parse state for `cache` is on its way: `hand_over(cache)` waits for it and puts
    it there (whether it did). Called by the CLI before the transform run; the dbt step
    of this process calls it (`await_state`)."""
    with _announced_lock:
        _announced[cache] = hand_over


def withdraw_states() -> None:
    """Forget the announced states no dbt step took (a run that ended before dbt)."""
    with _announced_lock:
        _announced.clear()


def await_state(cache: Path) -> float | None:
    """Take the state announced for `cache`, if any: the seconds waited for it when it
    was handed over, else None (nothing announced, or the parse failed or was late: dbt
    then parses the project itself)."""
    with _announced_lock:
        hand_over = _announced.pop(cache, None)
    if hand_over is None:
        return None
    started = time.monotonic()
    return time.monotonic() - started if hand_over(cache) else None
