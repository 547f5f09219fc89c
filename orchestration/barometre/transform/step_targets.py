"""The dbt step's target folders: one per build, the newest few kept.

Each dbt step writes its own target folder under `dbt_project/target/` (`<op>-<run
id[:7]>-<random>`: manifest, run results, compiled SQL, dbt.log; ~10 MB): the failure
message of a run reads it right after the run (barometre.validate.dbt_failures), a
developer reads the latest ones by hand. Older ones only fill the disk (a weekly
schedule and the raw-folder sensor build for years), so after each build all but the
newest KEPT_STEP_TARGETS are removed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

KEPT_STEP_TARGETS = 10
"""Target folders of dbt steps kept (the current build's always among them)."""


def prune_step_targets(current: Path, keep: int = KEPT_STEP_TARGETS) -> list[Path]:
    """Remove the target folders of earlier builds of the same op beyond the newest
    `keep` (by modification time; `current` is never removed); those removed."""
    op = current.name.split("-", 1)[0]
    others = [
        p
        for p in current.parent.glob(f"{op}-*-*")
        if p.is_dir() and p.resolve() != current.resolve()
    ]
    others.sort(key=_mtime, reverse=True)
    removed = others[max(keep - 1, 0) :]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile
        return 0.0
