"""What the report reads, from the server: the published marts, the public reference
lookups and the publication's time, in an in-memory DuckDB database laid out like the
DuckDB publication (schemas marts, reference, meta), so barometre.serve.report reads it
unchanged.

Each table goes through CSV (`COPY … TO STDOUT` on the server, `read_csv` in DuckDB),
with the column types of the server's catalogue: no row loop in Python. Only the
published schema `marts` and the lookups the DuckDB publication carries
(barometre.publish.publication.PUBLISHED_REFERENCE_TABLES) are read: never restricted or raw.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from barometre.engines.postgres.connection import connect
from barometre.engines.postgres.publish import PUBLISHED_SCHEMA

if TYPE_CHECKING:
    import duckdb
    import psycopg

_DUCKDB_TYPES = {
    "double precision": "DOUBLE",
    "real": "DOUBLE",
    "numeric": "DOUBLE",
    "integer": "INTEGER",
    "smallint": "INTEGER",
    "bigint": "BIGINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
}
"""Server column type -> DuckDB type (anything else, text included, is VARCHAR)."""

_PUBLISHED_AT = re.compile(r"published (\S+)(?: by run (\S+))?")


def _copy_table(
    cur: psycopg.Cursor[Any], con: duckdb.DuckDBPyConnection, schema: str, table: str, to: str
) -> None:
    from psycopg import sql

    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        [schema, table],
    )
    columns = cur.fetchall()
    with tempfile.TemporaryDirectory(prefix="barometre-report-") as scratch:
        path = Path(scratch) / "table.csv"
        with (
            path.open("wb") as handle,
            cur.copy(
                sql.SQL("COPY (SELECT * FROM {}.{}) TO STDOUT (FORMAT csv)").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            ) as copy,
        ):
            for chunk in copy:
                handle.write(chunk)
        types = ", ".join(
            f"'{name}': '{_DUCKDB_TYPES.get(kind, 'VARCHAR')}'" for name, kind in columns
        )
        con.execute(
            f'CREATE TABLE {to}."{table}" AS SELECT * FROM read_csv(?, header = false, '
            f"columns = {{{types}}}, quote = '\"', escape = '\"', null_padding = false)",
            [str(path)],
        )
    # the table's description (dbt persists the models' descriptions as comments):
    # the export's workbook lists it in its Lisez-moi sheet
    cur.execute(
        "SELECT obj_description(c.oid, 'pg_class') FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
        [schema, table],
    )
    found = cur.fetchone()
    if found is not None and found[0]:
        comment = str(found[0]).replace("'", "''")
        con.execute(f"COMMENT ON TABLE {to}.\"{table}\" IS '{comment}'")


def published_snapshot(dsn: str) -> duckdb.DuckDBPyConnection | None:
    """An in-memory DuckDB copy of what is published on the server (None: nothing is)."""
    import duckdb

    from barometre.publish.publication import PUBLISHED_REFERENCE_TABLES

    con = duckdb.connect()
    with connect(dsn) as pg, pg.cursor() as cur:
        cur.execute(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
            [PUBLISHED_SCHEMA],
        )
        found = cur.fetchone()
        if found is None:
            con.close()
            return None
        for schema in ("marts", "reference", "meta"):
            con.execute(f"CREATE SCHEMA {schema}")
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            [PUBLISHED_SCHEMA],
        )
        for (table,) in cur.fetchall():
            _copy_table(cur, con, PUBLISHED_SCHEMA, table, "marts")
        for table in PUBLISHED_REFERENCE_TABLES:
            _copy_table(cur, con, "reference", table, "reference")
    match = _PUBLISHED_AT.search(str(found[0] or ""))
    published_at = match.group(1) if match else None
    con.execute(
        "CREATE TABLE meta.publication AS "
        "SELECT ? AS version, CAST(? AS TIMESTAMPTZ) AS published_at",
        [f"server {published_at}" if published_at else "server", published_at],
    )
    return con


def write_published_file(dsn: str, target: Path) -> bool:
    """The server's publication as a DuckDB file laid out like the DuckDB publication
    (schemas marts, reference, meta), for `barometre export` on this target; False when
    nothing is published on the server (the file is then not written)."""
    snapshot = published_snapshot(dsn)
    if snapshot is None:
        return False
    try:
        escaped = str(target).replace("'", "''")
        snapshot.execute(f"ATTACH '{escaped}' AS published_file")
        snapshot.execute("COPY FROM DATABASE memory TO published_file")
        snapshot.execute("DETACH published_file")
    finally:
        snapshot.close()
    return True
