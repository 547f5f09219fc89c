"""Read one export file into DuckDB as text, exactly as written (cells are data, never evaluated).

CSV is read by DuckDB itself (read_csv.py); XLSX by a bounded, guarded reader
(read_xlsx.py, xlsx_guard.py). Either way the result is a table of VARCHAR columns
named by position (`c0001`, …) plus `source_row`, the 1-based line (CSV record or
sheet row) of the record in the file, and two counts of the data rows: the one the
reader loaded and an independent one, which reconciliation compares.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from barometre.common.one_row import one_row
from barometre.ingest.errors import IngestError
from barometre.ingest.limits import MAX_COLUMNS, MAX_FIELD_CHARS, MAX_HEADER_ROWS

if TYPE_CHECKING:  # the manifest (so the code location) imports ReadSpec: no duckdb there
    import duckdb


@dataclass(frozen=True)
class ReadSpec:
    """How to read one export: its format and the shape of its header block."""

    format: str
    encoding: str
    delimiter: str
    sheet: str | None
    header_rows: int
    names_row: int = 1
    """row of the header block (1-based) that names the columns"""
    wording_row: int | None = None
    """row of the header block holding the question wordings (None: the names row)"""


@dataclass(frozen=True)
class ExportTable:
    """An export loaded into a connection: its table, its header block and its row counts."""

    table: str
    headers: tuple[str, ...]
    """the names row of the header block"""
    wordings: tuple[str, ...]
    """the wording row of the header block (the names row when the spec names none)"""
    rows_read: int
    """data rows loaded into `table`"""
    rows_counted: int
    """data rows of the file counted independently of the reader (must equal rows_read)"""

    def column_of(self, header: str) -> str:
        return positional_name(self.headers.index(header))


def positional_name(index: int) -> str:
    return f"c{index + 1:04d}"


def check_spec(path: Path, spec: ReadSpec) -> None:
    """The header block's shape is sane before a byte of the file is read."""
    MAX_HEADER_ROWS.check(spec.header_rows, file=path, hint="check `header_rows:` in manifest.yml")
    rows = [spec.names_row] + ([spec.wording_row] if spec.wording_row is not None else [])
    if spec.header_rows < 1 or any(not 1 <= r <= spec.header_rows for r in rows):
        raise IngestError(
            f"the names row ({spec.names_row}) and wording row ({spec.wording_row}) must lie "
            f"within the header block of {spec.header_rows} row(s)",
            file=path,
            hint="fix `header_rows:`, `names_row:` or `wording_row:` in manifest.yml",
        )


Header = tuple[tuple[str, ...], tuple[str, ...]]
"""(names, wordings) of an export's columns, in file order."""


def header_of(path: Path, block: list[list[str]], spec: ReadSpec) -> Header:
    """(names, wordings) of a header block (its rows as read), checked."""
    MAX_COLUMNS.check(max((len(r) for r in block), default=0), file=path, row=spec.names_row)
    width = len(block[spec.names_row - 1]) if spec.names_row <= len(block) else 0
    for number, cells in enumerate(block, start=1):
        for position, cell in enumerate(cells, start=1):
            if len(cell) > MAX_FIELD_CHARS.value():
                raise MAX_FIELD_CHARS.refusal(
                    f"{len(cell)} characters in header cell {position}",
                    file=path,
                    row=number,
                    hint="check that the header block is the survey tool's (header_rows:)",
                )

    def row(number: int) -> list[str]:
        cells = block[number - 1] if number <= len(block) else []
        if spec.format == "xlsx":  # spreadsheet headers often carry stray spaces
            cells = [c.strip() for c in cells]
        return list(cells[:width]) + [""] * (width - len(cells))

    names = _check_headers(path, row(spec.names_row), spec)
    wordings = tuple(row(spec.wording_row)) if spec.wording_row else names
    return names, wordings


def _check_headers(path: Path, headers: list[str], spec: ReadSpec) -> tuple[str, ...]:
    if not headers or all(h == "" for h in headers):
        raise IngestError(
            "the file is empty: no header row",
            file=path,
            hint="export the survey again; the file holds nothing",
        )
    if len(headers) == 1 and spec.format == "csv":
        raise IngestError(
            f"the header row has a single column; the delimiter is probably not {spec.delimiter!r}",
            file=path,
            row=spec.names_row,
            value=headers[0][:80],
            hint="check `delimiter:` in manifest.yml against the file",
        )
    seen: set[str] = set()
    for position, header in enumerate(headers, start=1):
        if header in seen:
            raise IngestError(
                f"column header appears twice (second time at position {position})",
                file=path,
                row=spec.names_row,
                column=header,
                hint="re-export without duplicated columns, or rename one of them",
            )
        seen.add(header)
    return tuple(headers)


def finish(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    header: Header,
    rows_counted: int,
) -> ExportTable:
    """The ExportTable of a loaded `table`; refuse a file without data row."""
    (count,) = one_row(con.execute(f"SELECT count(*) FROM {table}"))
    if count == 0 and rows_counted == 0:
        raise IngestError(
            "the file has a header but no data row",
            file=path,
            hint="check that the export includes the responses",
        )
    return ExportTable(table, header[0], header[1], int(count), rows_counted)


def read_export(
    con: duckdb.DuckDBPyConnection, path: Path, spec: ReadSpec, table: str
) -> ExportTable:
    """Load `path` into temp table `table` of `con`, per `spec`."""
    if path.stat().st_size == 0:
        raise IngestError("the file is empty (0 bytes)", file=path, hint="export the survey again")
    check_spec(path, spec)
    if spec.format == "csv":
        from barometre.ingest.read_csv import read_csv

        return read_csv(con, path, spec, table)
    from barometre.ingest.read_xlsx import read_xlsx

    return read_xlsx(con, path, spec, table)
