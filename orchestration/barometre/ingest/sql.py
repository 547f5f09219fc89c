"""Two small helpers of the load's SQL: a text as an SQL literal, and a Python lookup
(distinct names, decoded tokens) as a DuckDB table in one statement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def register_rows(
    con: duckdb.DuckDBPyConnection, name: str, columns: list[str], rows: list[tuple]
) -> None:
    """Make a Python lookup (distinct names or tokens) a DuckDB table of VARCHAR columns.

    Values are texts or None (NULL)."""
    by_column = zip(*rows, strict=True) if rows else ((),) * len(columns)
    register_columns(con, name, dict(zip(columns, by_column, strict=True)))


def register_columns(
    con: duckdb.DuckDBPyConnection, name: str, columns: Mapping[str, Sequence[str | None]]
) -> None:
    """`register_rows` for values held as one sequence per column (all of one length).

    DuckDB scans the columns as NumPy object arrays, in C: binding them as list
    parameters (`unnest($1::VARCHAR[])`) converted each value on its own, ~0.4 s for the
    ~130,000 names of a large reference."""
    import numpy as np  # already imported by the row contract's pandas; not at code load

    cols = ", ".join(f"{c} VARCHAR" for c in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({cols})")
    if not any(len(values) for values in columns.values()):
        return
    view = f"barometre_rows_of_{name}"
    con.register(view, {c: np.array(values, dtype=object) for c, values in columns.items()})
    try:
        con.execute(f"INSERT INTO {name} SELECT * FROM {view}")
    finally:
        con.unregister(view)
