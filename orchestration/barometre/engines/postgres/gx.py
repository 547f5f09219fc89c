"""Great Expectations on the PostgreSQL server: the same suites, GX's SQL datasource on
`postgresql+psycopg` (SQLAlchemy's psycopg 3 dialect).

The session is the DuckDB one (barometre.validate.gx_duckdb.GxDuckDB: one persisted
connection, query assets, engines disposed on exit) with two differences: connections
come from barometre.engines.postgres.connection (the password never enters GX's configuration),
and the marts are read from `marts_build`, where they wait for their checks before
publishing swaps them into `marts`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from barometre.engines.postgres.connection import connect
from barometre.engines.postgres.publish import BUILD_SCHEMA, PUBLISHED_SCHEMA
from barometre.validate.gx_duckdb import DATASOURCE_NAME, GxDuckDB, ephemeral_context


@contextlib.contextmanager
def postgres_gx(dsn: str, warehouse: Path, context: Any = None) -> Iterator[GxDuckDB]:
    """GX `context` (default: a new ephemeral one) with a SQL datasource on the server.

    Validation only reads: the session's connection is read-only
    (default_transaction_read_only). It is in autocommit: one failing query (an
    expectation GX cannot translate for this dialect) must not abort the session's
    transaction and fail every expectation after it.
    """
    connect(dsn).close()  # a clear error now rather than a SQLAlchemy traceback later
    if context is None:
        context = ephemeral_context()
    datasource = context.data_sources.add_sql(
        name=DATASOURCE_NAME,
        connection_string="postgresql+psycopg://",
        create_temp_table=False,
        kwargs={
            "creator": functools.partial(
                connect, dsn, autocommit=True, options="-c default_transaction_read_only=on"
            )
        },
    )
    session = GxDuckDB(
        context=context,
        datasource=datasource,
        warehouse=warehouse,
        schema_map={PUBLISHED_SCHEMA: BUILD_SCHEMA},
    )
    try:
        session.persist()
        yield session
    finally:
        session.close()
        with contextlib.suppress(Exception):
            context.data_sources.delete(DATASOURCE_NAME)
