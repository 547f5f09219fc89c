"""Export the published marts to files: CSV for Excel users, Parquet for the others.

Always reads the PUBLISHED file (read-only), never the working warehouse, so an export
can run at any time, even during a run, and is one consistent publication.

CSV files are written for Excel with French regional settings, which is what opens
them in practice:

- separator `;`, UTF-8 with a byte-order mark (Excel needs it to read UTF-8 accents),
  CRLF line ends, header row, NULL as an empty cell;
- decimal comma (`3,25`) in DOUBLE / FLOAT / DECIMAL columns: French Excel reads
  `3.25` as text or even as a date (`decimal_comma=False` keeps the point);
- formula injection neutralised (OWASP "CSV injection"): a text cell that starts with
  `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe `'`, so
  Excel shows it as text instead of evaluating it (`=HYPERLINK(…)` → `'=HYPERLINK(…)`).
  Plain negative numbers are left alone: numeric columns are never touched, and a
  text cell that is exactly a negative number (`-3`, `-2,5`, `-2.5`) is not prefixed.
  The apostrophe is visible in the cell: it is the price of safety.

Everything is done by DuckDB (`COPY`); there is no Python loop over rows.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from barometre.common.one_row import one_row
from barometre.publish.publication import MARTS_SCHEMA, META_SCHEMA

FORMATS = ("csv", "parquet", "xlsx")
DEFAULT_FORMATS = ("csv", "parquet")
BOM = "\ufeff".encode()

FORMULA_START = r"^[=+\-@\t\r]"
"""Text cells matching this are prefixed with an apostrophe …"""
PLAIN_NEGATIVE_NUMBER = r"^-[0-9]+([.,][0-9]+)?$"
"""… unless they are a plain negative number."""

_DECIMAL_TYPES = ("DOUBLE", "FLOAT", "REAL")
XLSX_NAME = "barometre.xlsx"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def neutralise_sql(expression: str) -> str:
    """SQL that neutralises a text value that Excel would run as a formula."""
    return (
        f"CASE WHEN regexp_matches({expression}, '{FORMULA_START}') AND NOT "
        f"regexp_matches({expression}, '{PLAIN_NEGATIVE_NUMBER}') "
        f"THEN '''' || {expression} ELSE {expression} END"
    )


def _csv_select(con: duckdb.DuckDBPyConnection, table: str, decimal_comma: bool) -> str:
    columns = con.execute(
        """
        SELECT column_name, data_type FROM duckdb_columns()
        WHERE schema_name = ? AND table_name = ? ORDER BY column_index""",
        [MARTS_SCHEMA, table],
    ).fetchall()
    parts = []
    for name, data_type in columns:
        col = _quote(name)
        if data_type == "VARCHAR":
            parts.append(f"{neutralise_sql(col)} AS {col}")
        elif decimal_comma and (data_type in _DECIMAL_TYPES or data_type.startswith("DECIMAL")):
            parts.append(f"replace(CAST({col} AS VARCHAR), '.', ',') AS {col}")
        else:
            parts.append(col)
    order = "ORDER BY ALL" if columns else ""
    return f"SELECT {', '.join(parts)} FROM {MARTS_SCHEMA}.{_quote(table)} {order}"


def _write_csv(con: duckdb.DuckDBPyConnection, select: str, target: Path) -> None:
    """BOM + header + rows, CRLF, `;`; written beside the target then renamed."""
    options = "DELIMITER ';', QUOTE '\"', NEW_LINE e'\\r\\n'"
    header = target.with_name(f".{target.name}.header")
    body = target.with_name(f".{target.name}.body")
    partial = target.with_name(f".{target.name}.partial")
    try:
        # DuckDB has no BOM option (PREFIX cannot go with HEADER): it writes the header
        # line and the rows separately, and the three parts are concatenated as bytes.
        con.execute(f"COPY ({select} LIMIT 0) TO {_sql_str(str(header))} (HEADER, {options})")
        con.execute(f"COPY ({select}) TO {_sql_str(str(body))} (HEADER false, {options})")
        with partial.open("wb") as out:
            out.write(BOM)
            for part in (header, body):
                with part.open("rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 20)
        os.replace(partial, target)
    finally:
        for leftover in (header, body, partial):
            leftover.unlink(missing_ok=True)


def export_marts(
    published_db: Path,
    out_dir: Path,
    formats: Sequence[str] = DEFAULT_FORMATS,
    *,
    decimal_comma: bool = True,
    say: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write every table of schema marts of the published file; return the files written.

    CSV go to `out_dir/csv/<mart>.csv`, Parquet to `out_dir/parquet/<mart>.parquet`,
    xlsx to one workbook `out_dir/xlsx/barometre.xlsx` (barometre.serve.export_xlsx).
    """
    say = say or (lambda _message: None)
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise ValueError(f"unknown export format(s) {unknown}; use {', '.join(FORMATS)}")
    published_db = Path(published_db)
    if not published_db.exists():
        raise FileNotFoundError(
            f"no published warehouse at {published_db}: run "
            "`barometre run` (or `barometre publish`) first"
        )
    con = duckdb.connect(str(published_db), read_only=True)
    written: list[Path] = []
    try:
        version = None
        (has_meta,) = one_row(
            con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND "
                "table_name = 'publication'",
                [META_SCHEMA],
            )
        )
        if has_meta:
            row = con.execute(f"SELECT version FROM {META_SCHEMA}.publication").fetchone()
            version = row[0] if row else None
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1",
                [MARTS_SCHEMA],
            ).fetchall()
        ]
        say(f"[export] {len(tables)} mart(s) of the published version {version or '?'} → {out_dir}")
        for fmt in formats:
            (Path(out_dir) / fmt).mkdir(parents=True, exist_ok=True)
        if "xlsx" in formats:
            from barometre.serve.export_xlsx import write_workbook

            target = Path(out_dir) / "xlsx" / XLSX_NAME
            write_workbook(con, tables, target, version)
            written.append(target)
            say(f"[export]   {XLSX_NAME}: {len(tables)} mart sheet(s), Lisez-moi, lookups")
        for table in tables:
            if not {"csv", "parquet"} & set(formats):
                break
            if "csv" in formats:
                target = Path(out_dir) / "csv" / f"{table}.csv"
                _write_csv(con, _csv_select(con, table, decimal_comma), target)
                written.append(target)
            if "parquet" in formats:
                target = Path(out_dir) / "parquet" / f"{table}.parquet"
                partial = target.with_name(f".{target.name}.partial")
                con.execute(
                    f"COPY (SELECT * FROM {MARTS_SCHEMA}.{_quote(table)} ORDER BY ALL) "
                    f"TO {_sql_str(str(partial))} (FORMAT parquet, COMPRESSION zstd)"
                )
                os.replace(partial, target)
                written.append(target)
            say(f"[export]   {table}: {', '.join(f for f in formats if f != 'xlsx')}")
    finally:
        con.close()
    return written
