"""An edition's raw rows, from the working DuckDB file to the server, in one transaction.

The ingestion reads and validates every export in DuckDB as for the default target
(barometre.ingest.load); this copies what it loaded, the edition's rows of the four raw
tables, to schema `raw` of the server: DuckDB writes them as CSV into a private
temporary folder and PostgreSQL reads them with COPY (no row loop in Python). The
edition's previous rows are deleted and the new ones copied in ONE transaction: a
failure (the server gone, a row refused) rolls it back and leaves the earlier good data.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

from barometre.engines.postgres.connection import connect
from barometre.ingest.raw_tables import RAW_TABLES

_CHUNK = 1 << 20


@dataclass(frozen=True)
class PushedEdition:
    edition: str
    rows: dict[str, int]
    """rows copied per raw table"""


def _columns(ddl: str) -> list[str]:
    return [line.split()[0] for line in ddl.strip().splitlines() if line.strip()]


def create_raw_schema(cur: psycopg.Cursor[Any]) -> None:
    """Schema raw and its tables on the server: the DDL of barometre.ingest.raw_tables
    (VARCHAR, INTEGER and TIMESTAMP mean the same in both engines)."""
    cur.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for name, columns in RAW_TABLES.items():
        cur.execute(f"CREATE TABLE IF NOT EXISTS raw.{name} ({columns})")


def push_edition(warehouse: Path, edition: str, dsn: str) -> PushedEdition:
    """Replace `edition` in the server's schema raw by its rows in the working DuckDB file."""
    import duckdb

    rows: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="barometre-raw-") as scratch:
        files: dict[str, Path] = {}
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            for table, ddl in RAW_TABLES.items():
                target = Path(scratch) / f"{table}.csv"
                columns = ", ".join(_columns(ddl))
                # Empty strings are quoted (""), NULL is an empty field: COPY ... CSV
                # reads them back as '' and NULL.
                con.execute(
                    f"COPY (SELECT {columns} FROM raw.{table} WHERE edition_code = ?) "
                    f"TO '{target}' (FORMAT csv, HEADER false, FORCE_QUOTE *)",
                    [edition],
                )
                files[table] = target
        finally:
            con.close()
        with connect(dsn) as pg, pg.cursor() as cur:
            create_raw_schema(cur)
            for table, ddl in RAW_TABLES.items():
                columns = ", ".join(_columns(ddl))
                cur.execute(f"DELETE FROM raw.{table} WHERE edition_code = %s", [edition])
                with (
                    cur.copy(f"COPY raw.{table} ({columns}) FROM STDIN (FORMAT csv)") as copy,
                    files[table].open("rb") as handle,
                ):
                    while chunk := handle.read(_CHUNK):
                        copy.write(chunk)
                rows[table] = cur.rowcount
            # leaving the `with connect(...)` block commits; an exception rolls back
    return PushedEdition(edition, rows)
