"""Where the PostgreSQL warehouse is and how to reach it: one home for the connection.

BAROMETRE_PG_DSN is a libpq connection string or URI (`host=… dbname=…`,
`postgresql://user@host/db`); what it leaves out comes from libpq's own variables
(PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD), as for psql.
"""

from __future__ import annotations

import getpass
import os
from typing import Any

EXPECTED_MAJOR = 15
"""The server version the project is tested with (tests start a PostgreSQL 15 cluster);
an older server is refused, a newer one is accepted."""

DBT_ENV = {
    "host": "BAROMETRE_PG_HOST",
    "port": "BAROMETRE_PG_PORT",
    "user": "BAROMETRE_PG_USER",
    "dbname": "BAROMETRE_PG_DBNAME",
    "sslmode": "BAROMETRE_PG_SSLMODE",
    # dbt masks the values of DBT_ENV_SECRET_* variables in its logs and artefacts
    "password": "DBT_ENV_SECRET_PG_PASSWORD",
}
"""The environment variables dbt's `postgres` output reads (dbt_project/profiles.yml)."""

_LIBPQ_ENV = {
    "host": "PGHOST",
    "port": "PGPORT",
    "user": "PGUSER",
    "dbname": "PGDATABASE",
    "password": "PGPASSWORD",
    "sslmode": "PGSSLMODE",
}


class ServerError(Exception):
    """The server cannot be reached or used: the message says which one and what to do."""


def connection_params(dsn: str) -> dict[str, str]:
    """Host, port, user, dbname, password and sslmode the DSN resolves to, with libpq's
    defaults (PG* variables, then the Debian socket folder, port 5432, the OS user)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        given = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    except Exception as err:  # psycopg.ProgrammingError: not a connection string
        raise ServerError(
            f"BAROMETRE_PG_DSN is not a libpq connection string or URI ({err}); "
            "write it as `host=… port=… dbname=… user=…` or `postgresql://user@host:port/db`"
        ) from None
    params = {k: given.get(k) or os.environ.get(env, "") for k, env in _LIBPQ_ENV.items()}
    params["host"] = params["host"] or "/var/run/postgresql"
    params["port"] = params["port"] or "5432"
    params["user"] = params["user"] or getpass.getuser()
    params["dbname"] = params["dbname"] or params["user"]
    params["sslmode"] = params["sslmode"] or "prefer"
    return params


def describe(params: dict[str, str]) -> str:
    """The server as a person reads it, without the password."""
    return f"{params['user']}@{params['host']}:{params['port']}/{params['dbname']}"


def export_dbt_environment(dsn: str) -> None:
    """Publish the resolved connection to dbt (a child process) through its profile's
    environment variables."""
    for key, value in connection_params(dsn).items():
        os.environ[DBT_ENV[key]] = value


def connect(dsn: str, **kwargs: Any) -> Any:
    """A psycopg connection to the warehouse server (PostgreSQL 15 or later), or a
    ServerError naming the server and what to do."""
    import psycopg

    params = connection_params(dsn)
    try:
        conninfo = psycopg.conninfo.make_conninfo(**params, connect_timeout=10)
        conn = psycopg.connect(conninfo, **kwargs)
    except psycopg.OperationalError as err:
        reason = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise ServerError(
            f"cannot connect to the PostgreSQL warehouse {describe(params)}: {reason}. "
            "Check BAROMETRE_PG_DSN (or PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD) "
            "and that the server is running"
        ) from None
    major = conn.info.server_version // 10000
    if major < EXPECTED_MAJOR:
        conn.close()
        raise ServerError(
            f"the PostgreSQL warehouse {describe(params)} runs PostgreSQL {major}; "
            f"PostgreSQL {EXPECTED_MAJOR} or later is required"
        )
    return conn
