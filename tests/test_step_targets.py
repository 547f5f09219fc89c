"""The dbt step's target folders do not pile up (barometre.transform.step_targets)."""

from __future__ import annotations

import os
from pathlib import Path

from barometre.transform.step_targets import prune_step_targets


def _folder(root: Path, name: str, mtime: float) -> Path:
    folder = root / name
    (folder / "compiled").mkdir(parents=True)
    (folder / "run_results.json").write_text("{}")
    os.utime(folder, (mtime, mtime))
    return folder


def test_only_the_newest_builds_are_kept(tmp_path: Path) -> None:
    old = [_folder(tmp_path, f"barometre_dbt-run{i:04d}-abc{i:04d}", 1000 + i) for i in range(6)]
    # the current build's folder: the oldest mtime of all, still never removed
    current = _folder(tmp_path, "barometre_dbt-cur0000-def0000", 1)
    others = [
        _folder(tmp_path, "partial_parse", 0),
        _folder(tmp_path, "seeds_kept", 0),
        _folder(tmp_path, "preparse-1-abc", 0),
        _folder(tmp_path, "other_op-run0000-abc0000", 0),
    ]
    (tmp_path / "manifest.json").write_text("{}")
    removed = prune_step_targets(current, keep=3)
    assert sorted(removed) == sorted(old[:4])
    assert [p.exists() for p in old] == [False] * 4 + [True] * 2
    assert current.is_dir() and all(p.is_dir() for p in others)
    assert (tmp_path / "manifest.json").is_file()
    assert prune_step_targets(current, keep=3) == []  # nothing more to remove
