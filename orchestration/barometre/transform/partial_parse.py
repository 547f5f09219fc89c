"""dbt's partial-parse state kept between runs, per warehouse (no dbt or Dagster import:
the CLI's background parse uses it too, barometre.serve.cli.preparse).

dbt writes `partial_parse.msgpack` in its target folder after parsing; each dbt step
has a target folder of its own, so the state is copied to a cache file before the build
(`restore_partial_parse`) and back after it (`save_partial_parse`): every run after the
first reuses the parsed project (barometre.transform.dbt_assets.partial_parse_cache).
"""

from __future__ import annotations

import os
import shutil
import uuid
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
    return True
