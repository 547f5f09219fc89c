"""Read one export file into DuckDB as text, exactly as written (cells are data, never evaluated).

CSV is read by DuckDB itself; XLSX through one openpyxl pass handed to DuckDB as a
data frame. Either way the result is a table of VARCHAR columns named by position
(`c0001`, …) plus `source_row`, the 1-based line of the record in the file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import duckdb

from barometre.ingest.bounded import out_of_memory
from barometre.ingest.errors import IngestError


@dataclass(frozen=True)
class ReadSpec:
    """How to read an export file (from the manifest: `Manifest.read_spec()`)."""

    format: str
    encoding: str
    delimiter: str
    sheet: str | None
    header_rows: int
    names_row: int = 1
    wording_row: int | None = None


@dataclass(frozen=True)
class ExportTable:
    """An export loaded into a connection: its table name and its header block."""

    table: str
    headers: tuple[str, ...]
    """the names row: the column names"""
    rows_read: int
    wordings: tuple[str, ...] = ()
    """the wording row (the names row when the manifest names none), one per column"""

    def column_of(self, header: str) -> str:
        return positional_name(self.headers.index(header))


def positional_name(index: int) -> str:
    return f"c{index + 1:04d}"


def _header_pair(block: list[list[str]], spec: ReadSpec) -> tuple[list[str], list[str]]:
    """(names row, wording row) of a header block, the wording row padded to the names."""
    names = block[spec.names_row - 1] if len(block) >= spec.names_row else []
    row = spec.wording_row or spec.names_row
    wordings = block[row - 1] if len(block) >= row else []
    wordings = [*wordings[: len(names)], *[""] * (len(names) - len(wordings))]
    return names, wordings


def _check_headers(path: Path, headers: list[str], manifest: ReadSpec) -> tuple[str, ...]:
    if not headers or all(h == "" for h in headers):
        raise IngestError(
            "the file is empty: no header row",
            file=path,
            hint="export the survey again; the file holds nothing",
        )
    if len(headers) == 1 and manifest.format == "csv":
        raise IngestError(
            f"the header row has a single column; the delimiter is probably not "
            f"{manifest.delimiter!r}",
            file=path,
            row=1,
            value=headers[0][:80],
            hint="check `delimiter:` in manifest.yml against the file",
        )
    seen: set[str] = set()
    for position, header in enumerate(headers, start=1):
        if header in seen:
            raise IngestError(
                f"column header appears twice (second time at position {position})",
                file=path,
                row=1,
                column=header,
                hint="re-export without duplicated columns, or rename one of them",
            )
        seen.add(header)
    return tuple(headers)


def _csv_headers(path: Path, manifest: ReadSpec) -> list[list[str]]:
    encoding = "utf-8-sig" if manifest.encoding == "utf-8" else manifest.encoding
    try:
        with path.open(encoding=encoding, newline="") as handle:
            head = [handle.readline() for _ in range(manifest.header_rows)]
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"the file is not readable as {manifest.encoding} (byte {exc.start} of the header)",
            file=path,
            row=1,
            hint="set `encoding:` in manifest.yml to the file's encoding (utf-8, latin-1)",
        ) from None
    return list(csv.reader(io.StringIO("".join(head)), delimiter=manifest.delimiter))


def _read_csv(
    con: duckdb.DuckDBPyConnection, path: Path, manifest: ReadSpec, table: str
) -> ExportTable:
    names, wordings = _header_pair(_csv_headers(path, manifest), manifest)
    headers = _check_headers(path, names, manifest)
    columns = {positional_name(i): "VARCHAR" for i in range(len(headers))}
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT CAST(row_number() OVER () + ? AS INTEGER) AS source_row, *
            FROM read_csv(?, header = false, skip = ?, delim = ?, quote = '"', escape = '"',
                          columns = ?, auto_detect = false, strict_mode = true,
                          allow_quoted_nulls = false, null_padding = false, encoding = ?)
            """,
            [
                manifest.header_rows,
                str(path),
                manifest.header_rows,
                manifest.delimiter,
                columns,
                manifest.encoding,
            ],
        )
    except duckdb.Error as exc:
        if out_of_memory(exc):  # not the file's fault: the memory limit's refusal
            raise
        raise _csv_error(path, manifest, exc) from None
    return _finish(con, path, table, headers, tuple(wordings))


def _csv_error(path: Path, manifest: ReadSpec, exc: duckdb.Error) -> IngestError:
    text = str(exc)
    line = None
    for marker in ("Line: ", "line "):
        if marker in text:
            digits = "".join(ch for ch in text.split(marker, 1)[1][:12] if ch.isdigit())
            line = int(digits) if digits else None
            break
    if "unicode" in text.lower() or "encoding" in text.lower():
        return IngestError(
            f"the file is not readable as {manifest.encoding}",
            file=path,
            row=line,
            hint="set `encoding:` in manifest.yml to the file's encoding (utf-8, latin-1)",
        )
    if "quote" in text.lower() or "unterminated" in text.lower():
        return IngestError(
            "a quoted field is never closed: the file looks truncated",
            file=path,
            row=line,
            hint="export the survey again; the last line was cut",
        )
    return IngestError(
        "a row does not have as many fields as the header (truncated line, stray "
        "delimiter or wrong delimiter)",
        file=path,
        row=line,
        hint=f"check the line in a text editor; the manifest's delimiter is "
        f"{manifest.delimiter!r}. Parser said: {text.splitlines()[0][:200]}",
    )


def _read_xlsx(
    con: duckdb.DuckDBPyConnection, path: Path, manifest: ReadSpec, table: str
) -> ExportTable:
    import openpyxl  # only XLSX exports need it
    import pandas as pd

    try:
        # data_only=False: a formula cell gives its formula text, stored as data.
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise IngestError(
            f"the file is not a readable XLSX workbook ({exc.__class__.__name__})",
            file=path,
            hint="open it in a spreadsheet tool and save it as .xlsx",
        ) from None
    try:
        sheet = book[manifest.sheet] if manifest.sheet else book.worksheets[0]
    except KeyError:
        raise IngestError(
            f"no sheet named {manifest.sheet!r}",
            file=path,
            hint=f"sheets are {book.sheetnames}; fix `sheet:`",
        ) from None
    frame = pd.DataFrame(list(sheet.iter_rows(values_only=True)))
    book.close()
    if frame.empty:
        raise IngestError(
            "the file is empty: no header row",
            file=path,
            hint="export the survey again; the file holds nothing",
        )
    frame = frame.astype("string").fillna("")
    block = [
        [str(h).strip() for h in frame.iloc[i].tolist()]
        for i in range(min(manifest.header_rows, len(frame)))
    ]
    names, wordings = _header_pair(block, manifest)
    headers = _check_headers(path, names, manifest)
    data = frame.iloc[manifest.header_rows :].reset_index(drop=True)
    data.columns = [positional_name(i) for i in range(len(headers))]
    data.insert(
        0, "source_row", range(manifest.header_rows + 1, manifest.header_rows + 1 + len(data))
    )
    con.register("xlsx_frame", data)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM xlsx_frame")
    con.unregister("xlsx_frame")
    return _finish(con, path, table, headers, tuple(wordings))


def _finish(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    headers: tuple[str, ...],
    wordings: tuple[str, ...],
) -> ExportTable:
    (count,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    if count == 0:
        raise IngestError(
            "the file has a header but no data row",
            file=path,
            hint="check that the export includes the responses",
        )
    return ExportTable(table, headers, int(count), wordings)


def read_export(
    con: duckdb.DuckDBPyConnection, path: Path, manifest: ReadSpec, table: str
) -> ExportTable:
    """Load `path` into temp table `table` of `con`, per the manifest's `read_spec()`."""
    if path.stat().st_size == 0:
        raise IngestError("the file is empty (0 bytes)", file=path, hint="export the survey again")
    if manifest.format == "csv":
        return _read_csv(con, path, manifest, table)
    return _read_xlsx(con, path, manifest, table)
