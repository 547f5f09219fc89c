"""A sheet's data rows as the spool DuckDB reads: one line of text per row, block by block.

The spool is CSV with separators a sheet's text practically never holds (XML cannot
carry these control characters; only an OOXML `_x001E_` escape can make one, and a
quote inside a value is doubled, as CSV does): one join per row instead of the csv
module quoting every field. A block of rows is spooled the same way in the reading
process or in a worker (xlsx_workers.py); this module imports nothing heavy, so a worker
starts fast.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element

from barometre.common.processes import alive
from barometre.ingest.errors import IngestError
from barometre.ingest.xlsx_stream import Cells, TextRow, cell_text, out_of_order

QUOTE, DELIMITER = "\x1e", "\x1d"

FOLDER_PREFIX = "barometre-xlsx-"
"""Spool folders are named `barometre-xlsx-<pid of the reading process>-<random>`."""
_FOLDER = re.compile(re.escape(FOLDER_PREFIX) + r"(\d+)-")
_BETWEEN = QUOTE + DELIMITER + QUOTE


def sweep_stale_folders(parent: Path | None = None) -> list[Path]:
    """Delete the spool folders (of this user, under `parent`, default the temporary
    folder) whose reading process is gone: a reader killed outright (SIGKILL, out of
    memory) cannot clean up, and its folder holds rows of an export. A folder whose
    process still runs (or whose number was reused) is left; returns those deleted."""
    parent = Path(parent or tempfile.gettempdir())
    deleted = []
    with contextlib.suppress(OSError), os.scandir(parent) as entries:
        for entry in entries:
            found = _FOLDER.match(entry.name)
            if not found or not entry.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                    continue
                if alive(int(found.group(1))):
                    continue
                shutil.rmtree(entry.path)
                deleted.append(Path(entry.path))
    return deleted


@contextlib.contextmanager
def spool_folder() -> Iterator[Path]:
    """A private (0700) temporary folder for one sheet's spool, deleted on exit; the
    folders left by readers that were killed are deleted first."""
    sweep_stale_folders()
    with tempfile.TemporaryDirectory(prefix=f"{FOLDER_PREFIX}{os.getpid()}-") as folder:
        yield Path(folder)


Rows = list[tuple[int | None, list | Element]]
"""(sheet row number or None when the row does not say, cells or the parsed row)"""


def spool_line(number: int, fields: list[str]) -> str:
    """One spooled row: the sheet row number, then every field quoted."""
    body = _BETWEEN.join(fields)
    if body.count(QUOTE) != 2 * (len(fields) - 1):  # a value holds the quote: double it
        body = _BETWEEN.join(f.replace(QUOTE, QUOTE * 2) for f in fields)
    return f"{number}{DELIMITER}{QUOTE}{body}{QUOTE}\n"


def row_texts(row: list | Element, number: int, cells: Cells | None) -> list[str]:
    """A row's cells as text (gaps as "")."""
    if row.__class__ is TextRow:
        return row  # type: ignore[return-value]
    if isinstance(row, list):
        return [cell_text(v) for v in row]
    assert cells is not None  # a parsed row comes with the sheet's cells
    return [cell_text(v) for v in cells.row(row, number)]


class Unnumbered(Exception):
    """A row that does not say its number starts a block whose predecessor is not known
    here (a worker's block): the reading process spools that block itself."""


@dataclass(frozen=True)
class SpooledBlock:
    """A block's data rows as spool text, and what the reading process checks in order."""

    text: str
    first: int | None
    """number of the block's first row (None: no row)"""
    last: int | None
    """number of its last row"""
    longest: int
    """characters of its longest line"""


def spool_block(
    path: Path, rows: Rows, number: int | None, width: int, cells: Cells | None
) -> SpooledBlock:
    """Spool `rows` (after the header block) of a sheet whose header is `width` columns
    wide; `number`: the row before them, or None when not known (then only the order
    within the block is checked here; the caller checks `first` against it)."""
    lines: list[str] = []
    first: int | None = None
    longest = 0
    for at, row in rows:
        if at is None:
            if number is None:
                raise Unnumbered
            at = number + 1
        if number is not None and at <= number:
            raise out_of_order(path, at, number)
        if first is None:
            first = at
        number = at
        texts = row_texts(row, at, cells)
        if not any(texts):
            continue  # an empty row (formatting only) is no data
        if len(texts) > width and any(texts[width:]):
            raise IngestError(
                f"a row has a value beyond the last header column ({width})",
                file=path,
                row=at,
                hint="delete the stray cells, or give their column a header",
            )
        fields = texts[:width] if len(texts) >= width else texts + [""] * (width - len(texts))
        line = spool_line(at, fields)
        lines.append(line)
        if len(line) > longest:
            longest = len(line)
    return SpooledBlock("".join(lines), first, number, longest)
