"""Owner-only files for what holds per-respondent data; readable ones for BI.

The working warehouse (raw answers, restricted marts, quarantine), its folder, the run
logs and DAGSTER_HOME (run history and event logs) are created 0600 / 0700: only the
account that runs the warehouse reads them. The published copy is the one thing meant
for others: publish.py sets its modes explicitly (0444 files, 0755 folders), whatever
the umask. `barometre` also sets umask 077 for itself and its children (dbt, the
Dagster UI and its daemon's runs), so files they create are private by default.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Literal, TextIO

PRIVATE_UMASK = 0o077
PRIVATE_DIR = 0o700
SEARCHABLE_DIR = 0o711
"""A private folder that others may traverse (not list) to reach a published folder inside."""
PRIVATE_FILE = 0o600
PUBLIC_DIR = 0o755
PUBLIC_FILE = 0o444


def private_dir(path: Path, *, searchable: bool = False) -> Path:
    """Create `path` (and parents) and make it owner-only (0700, or 0711 if searchable)."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    _chmod(path, SEARCHABLE_DIR if searchable else PRIVATE_DIR)
    return path


def private_file(path: Path) -> None:
    """Make an existing file owner-only (0600); a missing one is left alone."""
    with contextlib.suppress(FileNotFoundError):
        if not path.is_symlink():
            _chmod(path, PRIVATE_FILE)


def open_private(path: Path, mode: Literal["a", "w"] = "a", encoding: str = "utf-8") -> TextIO:
    """Open a text file for writing, created 0600 (never briefly world-readable)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        _chmod(path, PRIVATE_FILE)
        return os.fdopen(fd, mode, encoding=encoding)
    except BaseException:
        os.close(fd)
        raise


def is_inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _chmod(path: Path, mode: int) -> None:
    """chmod, skipped when the mode is already right (and on files we do not own)."""
    current = stat.S_IMODE(path.stat().st_mode)
    if current != mode:
        with contextlib.suppress(PermissionError):
            path.chmod(mode)
