"""Publishing on the PostgreSQL server: the marts swapped in, in one transaction.

dbt builds the marts into schema `marts_build` on this target (macro
build_schema_name), so BI readers of `marts` never see a build in progress. When every
blocking check passed, `publish_marts` renames `marts` to `marts_previous`,
`marts_build` to `marts`, drops the previous one and grants role `bi_reader` read
access to the new schema, all in ONE transaction: a reader sees the previous marts or
the new ones, never a mix, and a failure leaves the previous publication in place.

`bi_reader` (NOLOGIN; grant it to your BI tools' login roles) may read `marts` and
nothing else: no USAGE on `restricted`, `raw`, `core` or the other schemas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

from barometre.engines.postgres.connection import connect, connection_params, describe

PUBLISHED_SCHEMA = "marts"
BUILD_SCHEMA = "marts_build"
PREVIOUS_SCHEMA = "marts_previous"
READER_ROLE = "bi_reader"
LOCK_TIMEOUT = "60s"
"""How long the swap waits for readers holding the marts before it gives up (the
previous publication then stays)."""


class ServerPublishError(Exception):
    """Publishing on the server did not happen; the previous publication stays."""


@dataclass(frozen=True)
class ServerPublication:
    server: str
    published_at: str
    run_id: str
    tables: dict[str, int]
    """rows per published mart"""


def _schema_exists(cur: psycopg.Cursor[Any], name: str) -> bool:
    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
    return cur.fetchone() is not None


def publish_marts(dsn: str, run_id: str = "") -> ServerPublication:
    """Swap the marts built in `marts_build` into `marts` and grant bi_reader read access."""
    from psycopg import errors, sql

    published_at = datetime.now(UTC).isoformat(timespec="seconds")
    with connect(dsn) as pg, pg.cursor() as cur:
        cur.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        if not _schema_exists(cur, BUILD_SCHEMA):
            raise ServerPublishError(
                f"schema {BUILD_SCHEMA} does not exist: nothing was built since the last "
                "publication (run `barometre run --target postgres`)"
            )
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "ORDER BY table_name",
            [BUILD_SCHEMA],
        )
        tables = [row[0] for row in cur.fetchall()]
        if not tables:
            raise ServerPublishError(f"schema {BUILD_SCHEMA} holds no mart")
        counts = {}
        for table in tables:
            cur.execute(
                sql.SQL("SELECT count(*) FROM {}.{}").format(
                    sql.Identifier(BUILD_SCHEMA), sql.Identifier(table)
                )
            )
            counts[table] = int(cur.fetchone()[0])
        cur.execute(f"DROP SCHEMA IF EXISTS {PREVIOUS_SCHEMA} CASCADE")
        if _schema_exists(cur, PUBLISHED_SCHEMA):
            cur.execute(f"ALTER SCHEMA {PUBLISHED_SCHEMA} RENAME TO {PREVIOUS_SCHEMA}")
        cur.execute(f"ALTER SCHEMA {BUILD_SCHEMA} RENAME TO {PUBLISHED_SCHEMA}")
        # CASCADE: views a BI user created on the previous marts go with them (they
        # would keep reading the previous tables otherwise); docs/scaling.md.
        cur.execute(f"DROP SCHEMA IF EXISTS {PREVIOUS_SCHEMA} CASCADE")
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [READER_ROLE])
        if cur.fetchone() is None:
            try:
                cur.execute(f"CREATE ROLE {READER_ROLE} NOLOGIN")
            except errors.InsufficientPrivilege:
                raise ServerPublishError(
                    f"role {READER_ROLE} does not exist and {describe(connection_params(dsn))} "
                    f"may not create it: ask the server's administrator to run "
                    f"`CREATE ROLE {READER_ROLE} NOLOGIN`"
                ) from None
        cur.execute(f"GRANT USAGE ON SCHEMA {PUBLISHED_SCHEMA} TO {READER_ROLE}")
        cur.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {PUBLISHED_SCHEMA} TO {READER_ROLE}")
        cur.execute(
            sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
                sql.Identifier(PUBLISHED_SCHEMA),
                sql.Literal(
                    f"barometre marts for BI, published {published_at}"
                    + (f" by run {run_id}" if run_id else "")
                ),
            )
        )
        # leaving the `with connect(...)` block commits: the swap becomes visible at once
    return ServerPublication(describe(connection_params(dsn)), published_at, run_id, counts)


def current_publication(dsn: str) -> tuple[str, dict[str, int]] | None:
    """What `marts` holds on the server: its comment (when and by which run it was
    published) and rows per mart; None when nothing is published yet."""
    from psycopg import sql

    with connect(dsn) as pg, pg.cursor() as cur:
        if not _schema_exists(cur, PUBLISHED_SCHEMA):
            return None
        cur.execute("SELECT obj_description(%s::regnamespace, 'pg_namespace')", [PUBLISHED_SCHEMA])
        comment = str(cur.fetchone()[0] or "")
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "ORDER BY table_name",
            [PUBLISHED_SCHEMA],
        )
        counts = {}
        for (table,) in cur.fetchall():
            cur.execute(
                sql.SQL("SELECT count(*) FROM {}.{}").format(
                    sql.Identifier(PUBLISHED_SCHEMA), sql.Identifier(table)
                )
            )
            counts[table] = int(cur.fetchone()[0])
    return comment, counts
