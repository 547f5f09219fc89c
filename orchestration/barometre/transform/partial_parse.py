"""dbt's partial-parse state kept between runs, per warehouse (no dbt or Dagster import:
the run's warm dbt process uses it too, barometre.transform.warm_dbt).

dbt writes `partial_parse.msgpack` in its target folder after parsing; each dbt step
has a target folder of its own, so the state is copied to a cache file before the build
(`restore_partial_parse`) and back after it (`save_partial_parse`): every run after the
first reuses the parsed project (barometre.transform.dbt_assets.partial_parse_cache).

`barometre run` parses the project in its warm dbt process while it loads the editions
(barometre.transform.warm_dbt), which hands its state over to the same cache file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from pathlib import Path

PARTIAL_PARSE = "partial_parse.msgpack"
"""What dbt writes in its target folder after parsing (dbt's own name)."""


def cache_file(project_dir: Path, warehouse: Path, target: str = "duckdb") -> Path:
    """Where dbt's partial-parse state for this warehouse file (Spark: work folder) is
    kept between runs.

    dbt invalidates partial parsing when the profile's connection keys change, and the
    warehouse path is one of them (on Spark, the work folder, in the session's
    settings): one cached state per warehouse path or Spark work folder (per target on
    PostgreSQL), so every run after the first reuses the parsed project instead of
    parsing it again."""
    where = str(Path(warehouse).resolve()) if target in ("duckdb", "spark") else target
    key = hashlib.sha256(where.encode()).hexdigest()[:16]
    return Path(project_dir).resolve() / "target" / "partial_parse" / f"{key}.msgpack"


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
likely deleted: tests, benchmarks, a moved file; if not, its next build redoes the work
once: parses, or builds the seeds)."""


def forget_unused(
    folder: Path, days: float = UNUSED_DAYS, suffix: str = Path(PARTIAL_PARSE).suffix
) -> list[Path]:
    """Remove the per-warehouse states in `folder` (files ending in `suffix`: parse
    states, ~2 MB each, or the kept seeds' records, barometre.transform.unchanged_seeds)
    that no build saved for `days` days; those removed."""
    horizon = time.time() - days * 86400
    removed = []
    for state in folder.glob(f"*{suffix}"):
        try:
            if state.stat().st_mtime < horizon:
                state.unlink()
                removed.append(state)
        except OSError:  # removed meanwhile
            continue
    return removed
