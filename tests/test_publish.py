"""Publishing: a read-only, DuckDB 1.4-compatible copy of the marts, replaced atomically."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from barometre.publish import publication as publishing
from barometre.publish.publication import (
    PUBLISHED_REFERENCE_TABLES,
    STORAGE_VERSION_NUMBER,
    PublishError,
    current_version,
    publish,
    storage_header,
)


def make_working(path: Path, *, rows: int = 12) -> Path:
    """A small working warehouse with every kind of schema the real one has."""
    con = duckdb.connect(str(path))
    try:
        for schema in ("raw", "reference", "staging", "core", "restricted", "marts"):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(f"""
            CREATE OR REPLACE TABLE marts.mart_theme_maturity AS
            SELECT CASE WHEN i % 2 = 0 THEN '2018' ELSE '2021' END AS edition_code,
                   'T' || lpad(CAST(i AS VARCHAR), 2, '0') AS theme_code,
                   round(i / 3.0, 2) AS mean_maturity, i AS n_respondents
            FROM range({rows}) r(i)""")
        con.execute(f"""
            CREATE OR REPLACE TABLE marts.mart_question_distribution AS
            SELECT '2021' AS edition_code, 'T01_Q' || lpad(CAST(i AS VARCHAR), 2, '0')
                   AS question_code, i % 6 + 1 AS level, (i % 5) / 4.0 AS share
            FROM range({rows * 3}) r(i)""")
        con.execute(
            "CREATE OR REPLACE VIEW marts.mart_summary AS "
            "SELECT count(*) AS themes FROM marts.mart_theme_maturity"
        )
        con.execute("COMMENT ON TABLE marts.mart_theme_maturity IS 'Maturité par thème'")
        con.execute(
            "COMMENT ON COLUMN marts.mart_theme_maturity.mean_maturity IS 'moyenne des niveaux'"
        )
        con.execute(
            "CREATE OR REPLACE TABLE reference.editions AS "
            "SELECT * FROM (VALUES ('2018', 5), ('2021', 6)) v(edition_code, scale_size)"
        )
        con.execute(
            "CREATE OR REPLACE TABLE reference.themes AS "
            "SELECT '2021' AS edition_code, 'T01' AS theme_code"
        )
        con.execute(
            "CREATE OR REPLACE TABLE reference.collectivities AS "
            "SELECT '200093201' AS siren, 'Métropole Européenne de Lille' AS name"
        )
        con.execute(
            "CREATE OR REPLACE TABLE restricted.mart_respondent_theme_maturity AS "
            "SELECT '200093201' AS respondent_id, 3.5 AS theme_maturity"
        )
        con.execute("CREATE OR REPLACE TABLE core.fct_answers AS SELECT 1 AS level")
        con.execute(
            "CREATE OR REPLACE TABLE raw.load_log AS SELECT '2021' AS edition_code, "
            "'export.csv' AS source_file, repeat('ab', 32) AS content_sha256, "
            "current_localtimestamp() AS loaded_at"
        )
    finally:
        con.close()
    return path


def mart_rows(db: Path, table: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"SELECT * FROM marts.{table} ORDER BY ALL").fetchall()
    finally:
        con.close()


@pytest.fixture
def working(tmp_path: Path) -> Path:
    return make_working(tmp_path / "working.duckdb")


def test_published_file_holds_marts_and_lookups_only(working: Path, tmp_path: Path) -> None:
    out = tmp_path / "published"
    version = publish(working, out, run_id="run-1")

    assert version.path == out / "barometre.duckdb"
    con = duckdb.connect(str(version.path), read_only=True)
    try:
        tables = {
            f"{s}.{t}"
            for s, t in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables()"
            ).fetchall()
        }
        assert {
            "marts.mart_theme_maturity",
            "marts.mart_question_distribution",
            "marts.mart_summary",
            "reference.editions",
            "reference.themes",
            "meta.publication",
            "meta.tables",
        } == tables
        schemas = {
            s
            for (s,) in con.execute(
                "SELECT schema_name FROM duckdb_schemas() WHERE database_name = 'barometre'"
            ).fetchall()
        }
        assert not schemas & {"raw", "staging", "intermediate", "core", "restricted"}
        assert con.execute("SELECT version, run_id FROM meta.publication").fetchone() == (
            version.version,
            "run-1",
        )
        # dbt's persisted descriptions travel with the tables.
        assert con.execute(
            "SELECT comment FROM duckdb_tables() WHERE table_name = 'mart_theme_maturity'"
        ).fetchone() == ("Maturité par thème",)
        recorded = dict(
            con.execute(
                "SELECT schema_name || '.' || table_name, row_count FROM meta.tables"
            ).fetchall()
        )
    finally:
        con.close()
    assert recorded == version.tables
    assert version.marts == {
        "mart_question_distribution": 36,
        "mart_summary": 1,
        "mart_theme_maturity": 12,
    }
    assert set(PUBLISHED_REFERENCE_TABLES) >= {"editions", "themes"}
    assert "collectivities" not in PUBLISHED_REFERENCE_TABLES
    assert mart_rows(version.path, "mart_theme_maturity") == mart_rows(
        working, "mart_theme_maturity"
    )

    data = json.loads((out / "published.json").read_text(encoding="utf-8"))
    assert data["version"] == version.version and data["run_id"] == "run-1"
    assert data["tables"] == version.tables
    assert data["sources"][0]["content_sha256"] == "ab" * 32
    assert current_version(out) == version

    parquet = out / "current" / "parquet"
    for mart, rows in version.marts.items():
        (n,) = duckdb.execute(f"SELECT count(*) FROM '{parquet / mart}.parquet'").fetchone()
        assert n == rows
    assert (parquet / "reference" / "editions.parquet").is_file()
    assert not (parquet / "reference" / "collectivities.parquet").exists()


def test_published_file_is_readable_by_duckdb_1_4_clients(working: Path, tmp_path: Path) -> None:
    version = publish(working, tmp_path / "published")
    # File header: storage number 67 = DuckDB 1.4 (duckdb 2.0's own format is 999).
    assert storage_header(version.path) == (b"DUCK", STORAGE_VERSION_NUMBER)
    con = duckdb.connect(str(version.path), read_only=True)
    try:
        (tags,) = con.execute(
            "SELECT tags FROM duckdb_databases() WHERE database_name = 'barometre'"
        ).fetchone()
    finally:
        con.close()
    assert tags == {"storage_version": "v1.4.0+"}
    assert not Path(str(version.path) + ".wal").exists()


def test_published_file_is_read_only(working: Path, tmp_path: Path) -> None:
    version = publish(working, tmp_path / "published")
    real = version.path.resolve()
    assert stat.S_IMODE(real.stat().st_mode) == 0o444
    assert stat.S_IMODE((real.parent / "published.json").stat().st_mode) == 0o444
    if os.geteuid() != 0:  # root ignores permission bits
        with pytest.raises(duckdb.Error):
            duckdb.connect(str(version.path)).execute("CREATE TABLE marts.x AS SELECT 1")


def test_atomic_replace_keeps_open_readers_on_their_version(working: Path, tmp_path: Path) -> None:
    out = tmp_path / "published"
    first = publish(working, out)
    reader = duckdb.connect(str(out / "barometre.duckdb"), read_only=True)
    try:
        assert reader.execute("SELECT count(*) FROM marts.mart_theme_maturity").fetchone() == (12,)
        make_working(working, rows=20)
        second = publish(working, out)
        assert second.version > first.version
        # The open connection still reads the complete previous publication …
        assert reader.execute("SELECT version FROM meta.publication").fetchone() == (first.version,)
        assert reader.execute("SELECT count(*) FROM marts.mart_theme_maturity").fetchone() == (12,)
        # … while a new connection sees the new one, whole.
        fresh = duckdb.connect(str(out / "barometre.duckdb"), read_only=True)
        try:
            assert fresh.execute("SELECT version FROM meta.publication").fetchone() == (
                second.version,
            )
            assert fresh.execute("SELECT count(*) FROM marts.mart_theme_maturity").fetchone() == (
                20,
            )
        finally:
            fresh.close()
    finally:
        reader.close()


def _snapshot(out: Path) -> tuple:
    return (
        os.readlink(out / "current"),
        (out / "published.json").read_bytes(),
        mart_rows(out / "barometre.duckdb", "mart_theme_maturity"),
    )


def test_failed_publish_leaves_the_previous_publication_untouched(
    working: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "published"
    first = publish(working, out)
    before = _snapshot(out)
    make_working(working, rows=30)

    def broken(*_args, **_kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(publishing, "_make_read_only", broken)
    with pytest.raises(PublishError) as failure:
        publish(working, out)
    message = str(failure.value)
    assert "disk full" in message
    assert f"previous publication (version {first.version}" in message and "unchanged" in message
    assert _snapshot(out) == before
    assert sorted(p.name for p in (out / "versions").iterdir()) == [first.version]


def test_publish_waits_for_a_writer_then_says_so(working: Path, tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
            "print('locked', flush=True); time.sleep(60)",
            str(working),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(PublishError, match="another process is writing"):
            publish(working, tmp_path / "published", lock_timeout=1.0)
        assert time.monotonic() - started >= 1.0
    finally:
        holder.kill()
        holder.wait()
    assert current_version(tmp_path / "published") is None


def test_missing_working_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="barometre run"):
        publish(tmp_path / "nothing.duckdb", tmp_path / "published")


def test_old_versions_and_leftovers_are_deleted(working: Path, tmp_path: Path) -> None:
    out = tmp_path / "published"
    versions = [publish(working, out, keep=3).version for _ in range(5)]
    assert sorted(p.name for p in (out / "versions").iterdir()) == versions[-3:]
    # What a publish killed midway leaves: an unfinished folder, and a complete version
    # that was never made current.
    (out / "versions" / ".tmp-20000101T000000.000000Z").mkdir()
    orphan = out / "versions" / "29991231T000000.000000Z"
    orphan.mkdir()
    latest = publish(working, out, keep=3)
    assert sorted(p.name for p in (out / "versions").iterdir()) == [*versions[-2:], latest.version]
    assert os.readlink(out / "current") == f"versions/{latest.version}"


@pytest.mark.slow
def test_marts_of_the_sample_are_published_whole(sample_warehouse: Path, tmp_path: Path) -> None:
    version = publish(sample_warehouse, tmp_path / "published")
    source = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        marts = [
            t
            for (t,) in source.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'"
            ).fetchall()
        ]
    finally:
        source.close()
    assert sorted(version.marts) == sorted(marts)
    for mart in marts:
        assert mart_rows(version.path, mart) == mart_rows(sample_warehouse, mart), mart
