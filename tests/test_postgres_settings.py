"""The PostgreSQL target's settings and connection, without a server (fast)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from barometre.common.settings import get_settings
from barometre.engines.postgres.connection import (
    ServerError,
    connect,
    connection_params,
    export_dbt_environment,
)

BAROMETRE = str(Path(sys.executable).with_name("barometre"))


def test_target_defaults_to_duckdb_and_refuses_an_unknown_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BAROMETRE_TARGET", raising=False)
    assert get_settings().target == "duckdb"
    monkeypatch.setenv("BAROMETRE_TARGET", "Postgres")
    assert get_settings().target == "postgres"
    monkeypatch.setenv("BAROMETRE_TARGET", "oracle")
    with pytest.raises(SystemExit, match=r"BAROMETRE_TARGET='oracle'.*duckdb, postgres"):
        get_settings()


def test_dsn_then_libpq_variables_then_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSSLMODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PGPASSWORD", "from-env")
    monkeypatch.setenv("PGDATABASE", "fromenv")
    params = connection_params("postgresql://ana@db.example:6543")
    assert params == {
        "host": "db.example",
        "port": "6543",
        "user": "ana",
        "dbname": "fromenv",
        "password": "from-env",
        "sslmode": "prefer",
    }
    params = connection_params("")
    assert params["host"] == "/var/run/postgresql"
    assert params["port"] == "5432"
    with pytest.raises(ServerError, match="not a libpq connection string"):
        connection_params("host=a port")


def test_dbt_reads_the_password_from_a_secret_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BAROMETRE_PG_HOST", "DBT_ENV_SECRET_PG_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    export_dbt_environment("host=db.example dbname=w user=u password=s3cret")
    assert os.environ["BAROMETRE_PG_HOST"] == "db.example"
    # dbt masks DBT_ENV_SECRET_* values in its logs and never writes them to artefacts
    assert os.environ["DBT_ENV_SECRET_PG_PASSWORD"] == "s3cret"
    profiles = (get_settings().dbt_project_dir / "profiles.yml").read_text(encoding="utf-8")
    assert "env_var('DBT_ENV_SECRET_PG_PASSWORD'" in profiles


def test_an_unreachable_server_is_named_without_its_password(tmp_path: Path) -> None:
    dsn = f"host={tmp_path} port=1 user=ana dbname=w password=s3cret"
    with pytest.raises(ServerError) as caught:
        connect(dsn)
    message = str(caught.value)
    assert f"ana@{tmp_path}:1/w" in message
    assert "s3cret" not in message
    assert "BAROMETRE_PG_DSN" in message


def test_run_on_an_unreachable_server_fails_in_one_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BAROMETRE_WAREHOUSE": str(tmp_path / "w" / "barometre.duckdb"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "BAROMETRE_PG_DSN": f"host={tmp_path} port=1 user=ana dbname=w",
    }
    result = subprocess.run(
        [BAROMETRE, "run", "--target", "postgres"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "cannot connect to the PostgreSQL warehouse ana@" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "w" / "barometre.duckdb").exists()  # nothing was loaded
