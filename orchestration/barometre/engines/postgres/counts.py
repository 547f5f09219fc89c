"""What the server's warehouse holds, for `barometre status` on the PostgreSQL target.

On this target dbt builds core.fct_answers on the server, not in the working DuckDB
file (which keeps the raw tables and the run history): the answers per edition are
counted there.
"""

from __future__ import annotations

from barometre.engines.postgres.connection import ServerError, connect


def answers_by_edition(dsn: str) -> dict[str, int] | str:
    """Rows of core.fct_answers per edition on the server; {} when it was never built;
    a one-line reason (never the password) when the server cannot be read."""
    import psycopg

    try:
        with connect(dsn) as pg, pg.cursor() as cur:
            cur.execute("SELECT to_regclass('core.fct_answers') IS NOT NULL")
            if not cur.fetchone()[0]:
                return {}
            cur.execute("SELECT edition_code, count(*) FROM core.fct_answers GROUP BY edition_code")
            return {str(edition): int(n) for edition, n in cur.fetchall()}
    except ServerError as err:
        return str(err)
    except psycopg.Error as err:
        return f"{type(err).__name__}: {str(err).strip().splitlines()[0]}"
