"""barometre.common.atomic_file: the state and page files replaced in one rename."""

from __future__ import annotations

from pathlib import Path

import pytest

from barometre.common.atomic_file import write_text_atomically


def test_the_file_is_replaced_whole_and_nothing_is_left_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "made" / "here" / "state.json"  # folders created
    write_text_atomically(target, "old é")
    write_text_atomically(target, "new ü")
    assert target.read_text(encoding="utf-8") == "new ü"
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]


def test_a_failed_write_keeps_the_old_content_and_leaves_no_staging_file(
    tmp_path: Path,
) -> None:
    target = tmp_path / "state.json"
    write_text_atomically(target, "old")
    with pytest.raises(UnicodeEncodeError):
        write_text_atomically(target, "a lone surrogate \udc80 cannot be written")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
