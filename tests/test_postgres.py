"""The PostgreSQL target end to end (slow): `barometre run --target postgres` on the
bundled sample, against a throw-away PostgreSQL cluster the tests start themselves
(tests/postgres_cluster.py).

The marts (and the restricted ones) must be those of the DuckDB run, row for row: the
same columns with the same types, the same rows. Values are compared exactly, except
doubles, compared to 1e-12 relative: both engines compute the same IEEE operations on
the same exact sums (macros/stable_aggregates.sql), but sqrt(), percentile_cont()/median()
and the final divisions are each engine's own implementation, free to differ in the
last bit. Nothing published is affected by such a difference: every figure a reader
sees is rounded (round_half_up) or compared against thresholds far above it.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from barometre.common.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

BAROMETRE = str(Path(sys.executable).with_name("barometre"))
SCHEMAS = ("marts", "restricted")
FLOAT_REL_TOL = 1e-12
PG_TYPES = {
    "DOUBLE": "double precision",
    "INTEGER": "integer",
    "VARCHAR": "character varying",
    "BOOLEAN": "boolean",
}
"""A DuckDB column type and the PostgreSQL type the same contract gives."""


@pytest.fixture(scope="session")
def pg_run(pg_dsn: str) -> Iterator[dict[str, str]]:
    """`barometre run --target postgres` on the bundled sample; its environment.

    In a temporary folder of its own, as the cluster (tests/postgres_cluster.py)."""
    home = Path(tempfile.mkdtemp(prefix="barometre-pg-run-"))
    try:
        yield _run_on_server(pg_dsn, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _run_on_server(pg_dsn: str, home: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "BAROMETRE_DATA_DIR": str(PROJECT_ROOT / "data" / "raw"),
        "BAROMETRE_WAREHOUSE": str(home / "warehouse" / "barometre.duckdb"),
        "BAROMETRE_PUBLISHED_DIR": str(home / "published"),
        "BAROMETRE_REPORT_DIR": str(home / "report"),
        "DAGSTER_HOME": str(home / "dagster"),
        "BAROMETRE_PG_DSN": pg_dsn,
    }
    env.pop("BAROMETRE_TARGET", None)
    result = subprocess.run(
        [BAROMETRE, "run", "--target", "postgres"],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "schema marts on barometre@" in result.stdout
    return env


def _connect(dsn: str) -> Any:
    from barometre.engines.postgres.connection import connect

    return connect(dsn, autocommit=True)


def _sort_key(row: tuple) -> tuple:
    return tuple((v is None, round(v, 9) if isinstance(v, float) else v) for v in row)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=FLOAT_REL_TOL, abs_tol=FLOAT_REL_TOL)
    return type(a) is type(b) and a == b


def test_postgres_marts_match_the_duckdb_run_row_for_row(
    pg_run: dict[str, str], sample_warehouse: Path
) -> None:
    duck = duckdb.connect(str(sample_warehouse), read_only=True)
    pg = _connect(pg_run["BAROMETRE_PG_DSN"])
    try:
        relations = duck.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ? ORDER BY ALL",
            [list(SCHEMAS)],
        ).fetchall()
        on_server = pg.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = ANY(%s) ORDER BY 1, 2",
            [list(SCHEMAS)],
        ).fetchall()
        assert on_server == relations
        assert len(relations) >= 8
        inexact = 0
        for schema, table in relations:
            name = f"{schema}.{table}"
            columns = duck.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [schema, table],
            ).fetchall()
            server_columns = pg.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                [schema, table],
            ).fetchall()
            assert server_columns == [(c, PG_TYPES[t]) for c, t in columns], name
            expected = sorted(duck.execute(f"SELECT * FROM {name}").fetchall(), key=_sort_key)
            found = sorted(pg.execute(f"SELECT * FROM {name}").fetchall(), key=_sort_key)
            assert len(found) == len(expected), name
            for i, (want, got) in enumerate(zip(expected, found, strict=True)):
                different = [
                    columns[j][0]
                    for j, (a, b) in enumerate(zip(want, got, strict=True))
                    if not _same(a, b)
                ]
                assert not different, f"{name} row {i}: {different}: {want} != {got}"
                inexact += sum(
                    1 for a, b in zip(want, got, strict=True) if isinstance(a, float) and a != b
                )
        print(f"doubles equal to the last bit except {inexact}")
    finally:
        duck.close()
        pg.close()


def test_bi_reader_reads_the_marts_and_nothing_else(pg_run: dict[str, str]) -> None:
    import psycopg

    pg = _connect(pg_run["BAROMETRE_PG_DSN"])
    try:
        pg.execute("SET ROLE bi_reader")
        assert pg.execute("SELECT count(*) FROM marts.mart_theme_maturity").fetchone()[0] > 0
        for relation in (
            "restricted.mart_respondent_maturity",
            "raw.responses",
            "core.fct_answers",
            "reference.editions",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                pg.execute(f"SELECT 1 FROM {relation} LIMIT 1")
        pg.execute("RESET ROLE")
        schemas = {r[0] for r in pg.execute("SELECT nspname FROM pg_namespace").fetchall()}
        assert "marts_build" not in schemas  # swapped in
        assert "marts_previous" not in schemas
    finally:
        pg.close()


def test_a_failed_copy_leaves_the_earlier_raw_rows(pg_run: dict[str, str]) -> None:
    from barometre.engines.postgres.raw import push_edition

    dsn = pg_run["BAROMETRE_PG_DSN"]
    pg = _connect(dsn)
    count = "SELECT count(*) FROM raw.answers WHERE edition_code = '2021'"
    try:
        before = pg.execute(count).fetchone()[0]
        assert before > 0
        # the server refuses one row half-way through: the whole edition must stay as it was
        pg.execute(
            "ALTER TABLE raw.answers ADD CONSTRAINT refuse_level_3 CHECK (level <> 3) NOT VALID"
        )
        try:
            with pytest.raises(Exception, match="refuse_level_3"):
                push_edition(Path(pg_run["BAROMETRE_WAREHOUSE"]), "2021", dsn)
            assert pg.execute(count).fetchone()[0] == before
        finally:
            pg.execute("ALTER TABLE raw.answers DROP CONSTRAINT refuse_level_3")
        pushed = push_edition(Path(pg_run["BAROMETRE_WAREHOUSE"]), "2021", dsn)
        assert pushed.rows["answers"] == before
        assert pg.execute(count).fetchone()[0] == before
    finally:
        pg.close()


def test_publishing_with_nothing_built_keeps_the_publication(pg_run: dict[str, str]) -> None:
    from barometre.engines.postgres.publish import ServerPublishError, publish_marts

    dsn = pg_run["BAROMETRE_PG_DSN"]
    pg = _connect(dsn)
    try:
        before = pg.execute("SELECT count(*) FROM marts.mart_question_distribution").fetchone()
        with pytest.raises(ServerPublishError, match="nothing was built"):
            publish_marts(dsn, run_id="test")
        after = pg.execute("SELECT count(*) FROM marts.mart_question_distribution").fetchone()
        assert after == before
    finally:
        pg.close()


def test_the_report_is_built_from_the_servers_publication(pg_run: dict[str, str]) -> None:
    report_dir = Path(pg_run["BAROMETRE_REPORT_DIR"])
    for edition in ("2018", "2021"):
        page = (report_dir / edition / "index.html").read_text(encoding="utf-8")
        assert "Figures tirées de la publication server " in page


def test_status_counts_the_answers_on_the_server(pg_run: dict[str, str]) -> None:
    """core.fct_answers lives on the server on this target: `status` counts it there."""
    pg = _connect(pg_run["BAROMETRE_PG_DSN"])
    try:
        expected = dict(
            pg.execute(
                "SELECT edition_code, count(*) FROM core.fct_answers GROUP BY edition_code"
            ).fetchall()
        )
    finally:
        pg.close()
    result = subprocess.run(
        [BAROMETRE, "status"],
        env={**pg_run, "BAROMETRE_TARGET": "postgres"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {
        line.split()[0]: line.split()
        for line in result.stdout.splitlines()
        if line.strip().split()[:1] in (["2018"], ["2021"])
    }
    assert set(rows) == {"2018", "2021"}
    for edition, count in expected.items():
        assert rows[edition][2] == str(count), result.stdout


def test_export_reads_the_servers_publication(pg_run: dict[str, str], tmp_path: Path) -> None:
    """`barometre export` on the postgres target writes the marts the server publishes
    (not the DuckDB publication, which this target never writes)."""
    env = {**pg_run, "BAROMETRE_TARGET": "postgres"}
    result = subprocess.run(
        [BAROMETRE, "export", "--out", str(tmp_path), "--format", "parquet"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not Path(pg_run["BAROMETRE_PUBLISHED_DIR"], "barometre.duckdb").exists()
    pg = _connect(pg_run["BAROMETRE_PG_DSN"])
    con = duckdb.connect()
    try:
        marts = {
            r[0]
            for r in pg.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
            ).fetchall()
        }
        assert {p.stem for p in (tmp_path / "parquet").glob("*.parquet")} == marts
        for mart in marts:
            (n,) = pg.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()
            exported = tmp_path / "parquet" / f"{mart}.parquet"
            assert con.execute(f"SELECT count(*) FROM '{exported}'").fetchone()[0] == n
        # the workbook carries the marts' descriptions, as from the DuckDB publication
        result = subprocess.run(
            [BAROMETRE, "export", "--out", str(tmp_path), "--format", "xlsx"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert (tmp_path / "xlsx" / "barometre.xlsx").stat().st_size > 0
    finally:
        con.close()
        pg.close()


def test_export_without_a_publication_on_the_server_is_refused(pg_dsn: str, tmp_path: Path) -> None:
    from barometre.engines.postgres.connection import connect

    with connect(pg_dsn, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS nothing_published")
        admin.execute("CREATE DATABASE nothing_published")
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    empty = make_conninfo(**{**conninfo_to_dict(pg_dsn), "dbname": "nothing_published"})
    result = subprocess.run(
        [BAROMETRE, "export", "--out", str(tmp_path)],
        env={
            **os.environ,
            "BAROMETRE_TARGET": "postgres",
            "BAROMETRE_PG_DSN": empty,
            "BAROMETRE_PUBLISHED_DIR": str(tmp_path / "published"),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "nothing is published on" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
