"""Two small helpers of the load's SQL: a text as an SQL literal, and a Python lookup
(distinct names, decoded tokens) as a DuckDB table in one statement."""

from __future__ import annotations

import duckdb


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def register_rows(
    con: duckdb.DuckDBPyConnection, name: str, columns: list[str], rows: list[tuple]
) -> None:
    """Make a Python lookup (distinct names or tokens) a DuckDB table of VARCHAR columns.

    The values go in as one list per column (a single statement), not row by row.
    """
    cols = ", ".join(f"{c} VARCHAR" for c in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({cols})")
    if rows:
        unnest = ", ".join(f"unnest(${i + 1}::VARCHAR[])" for i in range(len(columns)))
        con.execute(
            f"INSERT INTO {name} SELECT {unnest}", [list(c) for c in zip(*rows, strict=True)]
        )
