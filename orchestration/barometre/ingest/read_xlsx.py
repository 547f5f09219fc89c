"""XLSX exports: guarded by xlsx_guard, read as text, spooled to DuckDB.

The reader never trusts the sheet's declared `<dimension>`: every row present in
the sheet is read. Two streaming readers, one result, memory bounded either way:
- xlsx_stream.py (one regular expression over blocks of whole rows, ElementTree's C
  parser for blocks of other forms) for text, numbers and booleans, the cells survey
  tools write;
- openpyxl's read-only reader (about 10× slower) when some cell holds a formula or
  an error value (the guard sees them), because a formula is data and must arrive as
  its text (`=HYPERLINK(…)`) and an error as written (`#N/A`), or when the first
  reader meets a cell it does not render exactly (a date-formatted number).
  openpyxl parses XML through defusedxml (installed with the project).
Either way rows are spooled as CSV text (control characters as quote and delimiter) to
a private temporary file, which DuckDB reads: Python never holds the table.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import duckdb

from barometre.ingest.errors import IngestError
from barometre.ingest.read_export import (
    ExportTable,
    Header,
    ReadSpec,
    finish,
    header_of,
    positional_name,
)
from barometre.ingest.xlsx_guard import SheetScan, scan_sheet
from barometre.ingest.xlsx_stream import NeedsExactReader, TextRow, cell_text, stream_rows

_NOT_A_WORKBOOK = "open it in a spreadsheet tool and save it as .xlsx"


def _sheet_rows(path: Path, scan: SheetScan) -> Iterator[tuple[int, list]]:
    try:
        if scan.has_formulas:
            yield from _openpyxl_rows_numbered(path, scan)
        else:
            yield from stream_rows(path, scan)
    except (IngestError, NeedsExactReader):
        raise
    except Exception as exc:  # a reader raises many types for a bad file
        raise IngestError(
            f"the file is not a readable XLSX workbook ({exc.__class__.__name__})",
            file=path,
            hint=_NOT_A_WORKBOOK,
        ) from None


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
    scan = scan_sheet(path, spec.sheet, spec.header_rows)
    with tempfile.TemporaryDirectory(prefix="barometre-xlsx-") as spool_dir:  # 0700
        spool = Path(spool_dir) / "rows.csv"
        try:
            header, longest = _spool(path, spec, scan, spool)
        except NeedsExactReader:  # a cell only openpyxl renders exactly: start again with it
            header, longest = _spool(path, spec, replace(scan, has_formulas=True), spool)
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
                    _DELIMITER,
                    _QUOTE,
                    _QUOTE,
                    {"source_row": "INTEGER", **columns},
                    line_size,
                    2 * line_size,
                ],
            )
    return finish(con, path, table, header, scan.rows_counted)


# The spool is CSV with separators a sheet's text practically never holds (XML cannot
# carry these control characters; only an OOXML `_x001E_` escape can make one, and a
# quote inside a value is doubled, as CSV does): one join per row instead of the csv
# module quoting every field.
_QUOTE, _DELIMITER = "\x1e", "\x1d"
_BETWEEN = _QUOTE + _DELIMITER + _QUOTE


def _spool_line(number: int, fields: list[str]) -> str:
    """One spooled row: the sheet row number, then every field quoted."""
    body = _BETWEEN.join(fields)
    if body.count(_QUOTE) != 2 * (len(fields) - 1):  # a value holds the quote: double it
        body = _BETWEEN.join(f.replace(_QUOTE, _QUOTE * 2) for f in fields)
    return f"{number}{_DELIMITER}{_QUOTE}{body}{_QUOTE}\n"


def _spool(path: Path, spec: ReadSpec, scan: SheetScan, spool: Path) -> tuple[Header, int]:
    with spool.open("w", encoding="utf-8", newline="") as handle:
        return _spool_rows(path, spec, scan, handle.write)


def _spool_rows(
    path: Path, spec: ReadSpec, scan: SheetScan, write: Callable[[str], object]
) -> tuple[Header, int]:
    """Write the data rows to the spool (sheet row number first); return (header,
    longest line)."""
    block: list[list[str]] = [[] for _ in range(spec.header_rows)]
    header: Header | None = None
    width = longest = 0
    for number, cells in _sheet_rows(path, scan):
        texts = cells if cells.__class__ is TextRow else [cell_text(v) for v in cells]
        if number <= spec.header_rows:
            while texts and texts[-1] == "":  # trailing empty (formatted) cells
                texts.pop()
            block[number - 1] = texts
            continue
        if header is None:  # the header block is complete
            header = header_of(path, block, spec)
            width = len(header[0])
        if not any(texts):
            continue  # an empty row (formatting only) is no data
        if len(texts) > width and any(texts[width:]):
            raise IngestError(
                f"a row has a value beyond the last header column ({width})",
                file=path,
                row=number,
                hint="delete the stray cells, or give their column a header",
            )
        fields = texts[:width] if len(texts) >= width else texts + [""] * (width - len(texts))
        line = _spool_line(number, fields)
        write(line)
        if len(line) > longest:
            longest = len(line)
    return header or header_of(path, block, spec), longest


def _create(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> None:
    cols = ", ".join(f"{c} VARCHAR" for c in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (source_row INTEGER, {cols})")
