"""The one row of a DuckDB query that always returns exactly one (an aggregate, a lookup).

DuckDB types `fetchone()` as optional; this says, once, that no row is an error of the
query (a damaged file, a table emptied behind our back), not a value to unpack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported by modules the code location loads: duckdb stays unloaded
    import duckdb


def one_row(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """`result.fetchone()`, refusing with ValueError when the query returned no row."""
    row = result.fetchone()
    if row is None:
        raise ValueError("the query returned no row where one was expected")
    return row
