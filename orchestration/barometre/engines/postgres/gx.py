"""Great Expectations on the PostgreSQL server: the same suites, GX's SQL datasource on
`postgresql+psycopg` (SQLAlchemy's psycopg 3 dialect).

The session is the DuckDB one, opened by the same set-up (`sql_gx` in
barometre.validate.gx_duckdb: one persisted connection, query assets, engines disposed
and the datasource removed on exit) with two differences: connections come from
barometre.engines.postgres.connection (the password never enters GX's configuration), and the
marts are read from `marts_build`, where they wait for their checks before
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
from barometre.validate.gx_duckdb import GxDuckDB, sql_gx


@contextlib.contextmanager
def postgres_gx(dsn: str, warehouse: Path, context: Any = None) -> Iterator[GxDuckDB]:
    """GX `context` (default: a new ephemeral one) with a SQL datasource on the server.

    Validation only reads: the session's connection is read-only
    (default_transaction_read_only). It is in autocommit: one failing query (an
    expectation GX cannot translate for this dialect) must not abort the session's
    transaction and fail every expectation after it.
    """
    connect(dsn).close()  # a clear error now rather than a SQLAlchemy traceback later
    with sql_gx(
        "postgresql+psycopg://",
        functools.partial(
            connect, dsn, autocommit=True, options="-c default_transaction_read_only=on"
        ),
        warehouse,
        context,
        schema_map={PUBLISHED_SCHEMA: BUILD_SCHEMA},
    ) as session:
        yield session
