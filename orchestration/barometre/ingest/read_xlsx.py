"""XLSX exports: guarded by xlsx_guard, read as text, spooled to DuckDB.

The reader never trusts the sheet's declared `<dimension>`: every row present in
the sheet is read. Two streaming readers, one result, memory bounded either way:
- xlsx_stream.py (one regular expression over blocks of whole rows, ElementTree's C
  parser for blocks of other forms) for text, numbers and booleans, the cells survey
  tools write;
- openpyxl's read-only reader (about 10× slower) when some cell holds a formula or
  an error value (the first reader meets them), because a formula is data and must arrive as
  its text (`=HYPERLINK(…)`) and an error as written (`#N/A`), or when the first
  reader meets a cell it does not render exactly (a date-formatted number).
  openpyxl parses XML through defusedxml (installed with the project).
Either way rows are spooled as CSV text (control characters as quote and delimiter) to
a private temporary file, which DuckDB reads: Python never holds the table.
"""

from __future__ import annotations

import zipfile
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import duckdb

from barometre.ingest import xlsx_workers
from barometre.ingest.errors import IngestError
from barometre.ingest.read_export import (
    ExportTable,
    Header,
    ReadSpec,
    finish,
    header_of,
    positional_name,
)
from barometre.ingest.xlsx_guard import (
    SheetGuard,
    SheetParts,
    SheetScan,
    check_workbook,
    scan_sheet,
)
from barometre.ingest.xlsx_spool import (
    DELIMITER,
    QUOTE,
    Rows,
    SpooledBlock,
    Unnumbered,
    row_texts,
    spool_block,
    spool_folder,
)
from barometre.ingest.xlsx_stream import (
    Cells,
    Framing,
    NeedsExactReader,
    block_rows,
    out_of_order,
    sheet_blocks,
    sheet_cells,
)
from barometre.ingest.xlsx_workers import copy_into, worker_count

_NOT_A_WORKBOOK = "open it in a spreadsheet tool and save it as .xlsx"


def _openpyxl_rows_numbered(path: Path, scan: SheetScan) -> Iterator[tuple[int, list]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        sheet = book[scan.name]
        sheet.reset_dimensions()  # never trust the declared dimension: read every row
        # With the dimension reset, openpyxl yields rows in order, gaps filled with
        # empty rows, from row 1.
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        book.close()


def read_xlsx(
    con: duckdb.DuckDBPyConnection, path: Path, spec: ReadSpec, table: str
) -> ExportTable:
    parts = check_workbook(path, spec.sheet)
    with spool_folder() as spool_dir:
        spool = spool_dir / "rows.csv"
        # The guard's pass over the sheet is fed the bytes the reader inflates (one
        # inflate); it refuses before the reader sees a row past a limit.
        guard = SheetGuard(path, parts, spec.header_rows, formulas=False)
        try:
            header, longest = _spool(path, spec, parts, spool, guard)
            scan = guard.scan()
        except (IngestError, NeedsExactReader) as exc:
            if guard.refused:
                raise
            # A reader's error, a formula or a cell only openpyxl renders: the guard's
            # whole pass first (its refusals come before a reader's error, as when it
            # ran alone before reading), then the error, or openpyxl's read.
            scan = scan_sheet(path, spec.sheet, spec.header_rows)
            if isinstance(exc, IngestError):
                raise
            header, longest = _spool(path, spec, scan, spool, None)
        columns = {positional_name(i): "VARCHAR" for i in range(len(header[0]))}
        _create(con, table, list(columns))
        if longest:
            # The spooled rows are text we wrote ourselves: DuckDB reads them back in
            # parallel, far faster than scanning Python objects.
            line_size = max(4 * longest + 64, 2 << 20)
            con.execute(
                f"""
                INSERT INTO {table}
                SELECT * FROM read_csv(?, header = false, delim = ?, quote = ?,
                    escape = ?, columns = ?, auto_detect = false, strict_mode = true,
                    allow_quoted_nulls = false, null_padding = false,
                    max_line_size = ?, buffer_size = ?)
                """,
                [
                    str(spool),
                    DELIMITER,
                    QUOTE,
                    QUOTE,
                    {"source_row": "INTEGER", **columns},
                    line_size,
                    2 * line_size,
                ],
            )
    return finish(con, path, table, header, scan.rows_counted)


def _spool(
    path: Path,
    spec: ReadSpec,
    sheet: SheetParts | SheetScan,
    spool: Path,
    guard: SheetGuard | None,
) -> tuple[Header, int]:
    """Write the data rows to the spool (sheet row number first); return (header,
    longest line). With `guard`, by the streaming reader feeding the guard; without, by
    openpyxl (the guard has passed the sheet)."""
    with spool.open("wb") as handle:
        spooler = _Spooler(path, spec, handle)
        try:
            if guard is None:
                assert isinstance(sheet, SheetScan)
                _spool_openpyxl(path, sheet, spooler)
            else:
                _spool_streamed(path, sheet, spooler, spool.parent, guard)
        except (IngestError, NeedsExactReader):
            raise
        except Exception as exc:  # a reader raises many types for a bad file
            raise _unreadable(path, exc.__class__.__name__) from None
        return spooler.header or header_of(path, spooler.block, spec), spooler.longest


def _unreadable(path: Path, what: str) -> IngestError:
    return IngestError(
        f"the file is not a readable XLSX workbook ({what})", file=path, hint=_NOT_A_WORKBOOK
    )


class _Spooler:
    """The header block, then the data rows in sheet order, into the spool."""

    def __init__(self, path: Path, spec: ReadSpec, handle: BinaryIO) -> None:
        self.path, self.spec, self.handle = path, spec, handle
        self.block: list[list[str]] = [[] for _ in range(spec.header_rows)]
        self.header: Header | None = None
        self.width = self.longest = self.number = 0

    def rows(self, rows: Rows, cells: Cells | None) -> None:
        """Spool rows read in this process (the header block first)."""
        if self.header is None:
            rows = self._header_rows(rows, cells)
        if rows:
            self.write(spool_block(self.path, rows, self.number, self.width, cells))

    def _header_rows(self, rows: Rows, cells: Cells | None) -> Rows:
        """Take the header block's rows; return the rest (the header is then complete)."""
        for i, (at, row) in enumerate(rows):
            at = self.number + 1 if at is None else at
            if at <= self.number:
                raise out_of_order(self.path, at, self.number)
            if at > self.spec.header_rows:
                self.header = header_of(self.path, self.block, self.spec)
                self.width = len(self.header[0])
                return rows[i:]
            self.number = at
            texts = row_texts(row, at, cells)
            while texts and texts[-1] == "":  # trailing empty (formatted) cells
                texts.pop()
            self.block[at - 1] = texts
        return []

    def write(self, spooled: SpooledBlock, part: Path | None = None) -> None:
        """Append a spooled block (its text, or a worker's file `part`), checking that its
        rows come after the ones before."""
        if spooled.first is not None:
            if spooled.first <= self.number:
                raise out_of_order(self.path, spooled.first, self.number)
            self.number = spooled.last or self.number
        if part is None:
            self.handle.write(spooled.text.encode())
        else:
            copy_into(self.handle, part)
        self.longest = max(self.longest, spooled.longest)


def _spool_openpyxl(path: Path, scan: SheetScan, spooler: _Spooler) -> None:
    rows: Rows = []
    for number, cells in _openpyxl_rows_numbered(path, scan):
        rows.append((number, cells))
        if len(rows) == 1000:
            spooler.rows(rows, None)
            rows = []
    spooler.rows(rows, None)


def _spool_streamed(
    path: Path, sheet: SheetParts | SheetScan, spooler: _Spooler, folder: Path, guard: SheetGuard
) -> None:
    with zipfile.ZipFile(path) as book:
        size = book.getinfo(sheet.part).file_size
        count = worker_count() if size >= xlsx_workers.PARALLEL_FROM else 0
        workers = xlsx_workers.start(folder, count)
        try:
            cells = sheet_cells(path, book, sheet)
            blocks = sheet_blocks(book, sheet, guard.feed)
            _spool_blocks(path, blocks, spooler, cells, workers, folder)
        finally:
            for worker in workers:
                worker.stop()


def _spool_blocks(
    path: Path,
    blocks: Iterator[tuple[Framing, bytes]],
    spooler: _Spooler,
    cells: Cells,
    workers: list[xlsx_workers.Worker],
    folder: Path,
) -> None:
    """Read each block here, or hand it to a worker with room; spool them in block order."""
    pending: deque[tuple[int, SpooledBlock | xlsx_workers.Worker]] = deque()
    framing: Framing | None = None
    configured = False

    def settle(wait: bool) -> None:
        """Spool the pending blocks that are ready, in order (all of them if `wait`)."""
        while pending:
            seq, done = pending[0]
            if isinstance(done, SpooledBlock):
                spooler.write(done)
            elif wait or done.ready():
                _settle_worker(path, spooler, done, seq, folder, framing, cells)
            else:
                return
            pending.popleft()

    for seq, (framing, block) in enumerate(blocks):
        if spooler.header is None or not workers:
            spooler.rows(block_rows(block, framing, cells), cells)
            continue
        if not configured:
            configured = True
            xlsx_workers.write_config(
                folder,
                {
                    "path": str(path),
                    "shared": cells.shared,
                    "date_styles": cells.date_styles,
                    "column_limit": cells.column_limit,
                    "width": spooler.width,
                    "framing": framing,
                },
            )
        settle(wait=False)
        if len(pending) >= _PENDING:  # a worker lags: wait rather than hold more text
            settle(wait=True)
        free = [w for w in workers if len(w.in_flight) < xlsx_workers.IN_FLIGHT]
        if free:
            free[0].submit(seq, block)
            pending.append((seq, free[0]))
            continue
        try:
            rows = block_rows(block, framing, cells)
            try:
                spooled = spool_block(
                    path, rows, None if pending else spooler.number, spooler.width, cells
                )
            except Unnumbered:  # the row before is in a worker's block: wait for it
                settle(wait=True)
                spooled = spool_block(path, rows, spooler.number, spooler.width, cells)
        except Exception:
            settle(wait=True)  # an error in a block before this one comes first
            raise
        pending.append((seq, spooled))
    settle(wait=True)


_PENDING = 8
"""blocks spooled ahead of one a worker still reads (their text held meanwhile)"""


def _settle_worker(
    path: Path,
    spooler: _Spooler,
    worker: xlsx_workers.Worker,
    seq: int,
    folder: Path,
    framing: Framing | None,
    cells: Cells,
) -> None:
    """Spool the worker's oldest block (every block before it is spooled)."""
    outcome = worker.outcome()
    if outcome.error is not None:
        raise IngestError(**outcome.error)
    if outcome.exact:
        raise NeedsExactReader
    if outcome.unreadable is not None:
        raise _unreadable(path, outcome.unreadable)
    if outcome.unnumbered:  # its first row says no number: read it here, now it is known
        assert framing is not None
        block_file = folder / f"in-{seq}"
        rows = block_rows(block_file.read_bytes(), framing, cells)
        block_file.unlink()
        spooler.write(spool_block(path, rows, spooler.number, spooler.width, cells))
        return
    spooled = SpooledBlock("", outcome.first, outcome.last, outcome.longest)
    spooler.write(spooled, folder / f"out-{seq}")


def _create(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> None:
    cols = ", ".join(f"{c} VARCHAR" for c in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (source_row INTEGER, {cols})")
