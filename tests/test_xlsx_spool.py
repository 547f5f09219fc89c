"""The XLSX reader's spool folders: private, deleted after the read, and the folders of
readers killed outright deleted by the next read."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from barometre.ingest.xlsx_spool import FOLDER_PREFIX, spool_folder, sweep_stale_folders


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_folder_of_a_dead_reader_is_deleted_a_live_ones_kept(tmp_path: Path) -> None:
    dead = tmp_path / f"{FOLDER_PREFIX}{_dead_pid()}-abc"
    (dead / "sub").mkdir(parents=True)
    (dead / "rows.csv").write_text("1\x1d\x1erow\x1e\n")
    live = tmp_path / f"{FOLDER_PREFIX}{os.getpid()}-def"
    live.mkdir()
    unnamed = tmp_path / f"{FOLDER_PREFIX}xyz"  # not ours to judge: no process number
    unnamed.mkdir()
    other = tmp_path / "something-else-1"
    other.mkdir()
    link = tmp_path / f"{FOLDER_PREFIX}{_dead_pid()}-link"
    link.symlink_to(other)

    assert sweep_stale_folders(tmp_path) == [dead]

    assert not dead.exists()
    assert live.is_dir() and unnamed.is_dir() and other.is_dir() and link.is_symlink()


def test_spool_folder_is_private_named_after_the_process_and_deleted(tmp_path: Path) -> None:
    with spool_folder() as folder:
        assert folder.name.startswith(f"{FOLDER_PREFIX}{os.getpid()}-")
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        (folder / "rows.csv").write_text("x")
    assert not folder.exists()
