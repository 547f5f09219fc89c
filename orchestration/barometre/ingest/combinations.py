"""The row contract on rows held in DuckDB, one distinct combination of values at a time.

pandera owns the rules (`contract.py`); the rows stay in DuckDB. Each schema declares
the columns its checks read, and every check reads one row (uniqueness through the
row's `copies`), so a row passes or fails as its combination of those values does.
DuckDB computes the distinct combinations, pandera validates them in batches of at most
`BAROMETRE_CONTRACT_BATCH_ROWS`, and the failing combinations go back to DuckDB, where
callers join them to the rows. Memory follows the number of distinct combinations (a
few hundred for answers: question × state × level), never the number of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import duckdb

from barometre.common.one_row import one_row
from barometre.ingest.limits import CONTRACT_BATCH

if TYPE_CHECKING:
    import pandera.pandas as pa


def failing_combinations(
    con: duckdb.DuckDBPyConnection,
    rows: str,
    schema: pa.DataFrameSchema,
    table: str,
    params: Sequence[object] = (),
) -> int:
    """Validate the distinct combinations of `schema`'s columns in relation `rows`.

    Creates temp table `table`: the schema's columns plus `rule`, one row per failing
    (combination, rule). `rows` is a SELECT (with `params`) or a table name. Returns the
    number of distinct combinations validated.
    """
    from barometre.ingest.contract import contract_failures

    columns = ", ".join(schema.columns)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table}_all AS
        SELECT row_number() OVER () - 1 AS combination, *
        FROM (SELECT DISTINCT {columns} FROM ({rows}))""",
        list(params),
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_bad (combination BIGINT, rule VARCHAR)")
    (total,) = one_row(con.execute(f"SELECT count(*) FROM {table}_all"))
    batch = CONTRACT_BATCH.value()
    for start in range(0, total, batch):
        frame = con.execute(
            f"SELECT * FROM {table}_all WHERE combination >= ? AND combination < ? "
            "ORDER BY combination",
            [start, start + batch],
        ).df()
        frame = frame.set_index("combination")
        failures = contract_failures(frame, schema)
        if not failures.empty:
            con.register("contract_batch_failures", failures)
            con.execute(f"INSERT INTO {table}_bad SELECT index, rule FROM contract_batch_failures")
            con.unregister("contract_batch_failures")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT c.* EXCLUDE (combination), b.rule
        FROM {table}_all c JOIN {table}_bad b USING (combination)"""
    )
    con.execute(f"DROP TABLE {table}_all")
    con.execute(f"DROP TABLE {table}_bad")
    return int(total)


def matches(schema: pa.DataFrameSchema, row: str, failing: str) -> str:
    """SQL condition: row alias `row` has the values of failing-combination alias `failing`."""
    return " AND ".join(f"{row}.{c} IS NOT DISTINCT FROM {failing}.{c}" for c in schema.columns)
