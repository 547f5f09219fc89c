"""The Spark build's pure-Python parts, without Spark: the raw schema exported as Parquet
(one folder per table, every row, nothing else), and the refusals told in words."""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import pytest

from barometre.engines.spark import build as spark_build
from barometre.engines.spark import session as spark_session
from barometre.engines.spark.raw_parquet import export_raw_parquet
from barometre.serve.cli.spark import cmd_spark_build


def _warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE SCHEMA core")
    con.execute(
        "CREATE TABLE raw.answers AS SELECT * FROM (VALUES "
        "('2021', 'R1', 'T01_Q01', 3, TIMESTAMP '2021-02-01 10:00:00'), "
        "('2021', 'R2', 'T01_Q01', NULL, NULL)) t(edition_code, respondent_id, question_code, "
        "level, submitted_at)"
    )
    con.execute("CREATE TABLE raw.load_log AS SELECT 'l''apostrophe' AS source_file, 2 AS rows")
    con.execute("CREATE VIEW raw.not_a_table AS SELECT 1 AS x")
    con.execute("CREATE TABLE core.fct_answers AS SELECT 1 AS x")
    con.close()
    return path


def test_raw_tables_are_exported_whole_one_folder_each(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb")
    out = tmp_path / "raw parquet"  # a space in the path, and a stale file replaced
    (out / "stale").mkdir(parents=True)
    rows = export_raw_parquet(warehouse, out)
    assert rows == {"answers": 2, "load_log": 1}
    assert sorted(p.name for p in out.iterdir()) == ["answers", "load_log"]
    con = duckdb.connect()
    exported = con.execute(
        f"SELECT * FROM read_parquet('{out / 'answers' / '*.parquet'}') ORDER BY ALL"
    ).fetchall()
    source = duckdb.connect(str(warehouse), read_only=True)
    assert exported == source.execute("SELECT * FROM raw.answers ORDER BY ALL").fetchall()
    types = con.execute(
        f"DESCRIBE SELECT * FROM read_parquet('{out / 'answers' / '*.parquet'}')"
    ).fetchall()
    assert [t[1] for t in types] == ["VARCHAR", "VARCHAR", "VARCHAR", "INTEGER", "TIMESTAMP"]
    source.close()


def test_a_warehouse_without_raw_tables_is_refused_by_name(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(ValueError, match="no raw table"):
        export_raw_parquet(empty, tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="barometre run"):
        export_raw_parquet(tmp_path / "missing.duckdb", tmp_path / "out")


def test_spark_build_without_java_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _warehouse(tmp_path / "w.duckdb")
    monkeypatch.setenv("BAROMETRE_WAREHOUSE", str(tmp_path / "w.duckdb"))
    monkeypatch.setattr(spark_session.shutil, "which", lambda _name: None)
    # the extra as if installed (it is not in CI): Java is what is missing here
    monkeypatch.setattr(spark_session, "_find_spec", lambda _module: object())
    args = argparse.Namespace(
        out=str(tmp_path / "spark"), raw=None, conf=None, exclude=None, full_refresh=False
    )
    assert cmd_spark_build(args) == 1
    assert "openjdk-17-jre-headless" in capsys.readouterr().err


def test_a_malformed_spark_setting_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(
        out=str(tmp_path),
        raw=str(tmp_path),
        conf=["spark.master"],
        exclude=None,
        full_refresh=False,
    )
    assert cmd_spark_build(args) == 1
    assert "KEY=VALUE" in capsys.readouterr().err


def test_spark_build_passes_its_options_and_builds_the_whole_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[dict] = []

    def fake_build(raw_dir, out, conf, dbt_args, full_refresh):  # type: ignore[no-untyped-def]
        seen.append({"dbt_args": dbt_args, "full_refresh": full_refresh})
        return spark_build.SparkBuild(True, out, {"dbt_build": 1.0})

    monkeypatch.setattr(spark_build, "build_on_spark", fake_build)
    # as on a machine with the extra and Java (the default CI has neither)
    monkeypatch.setattr(spark_session, "missing_requirements", lambda: None)
    args = argparse.Namespace(
        out=str(tmp_path), raw=str(tmp_path), conf=None, exclude=None, full_refresh=False
    )
    assert cmd_spark_build(args) == 0
    # nothing is left out unless asked (the linked-cell suppression builds on Spark)
    assert seen[-1] == {"dbt_args": [], "full_refresh": False}
    assert "incremental" not in capsys.readouterr().out  # no earlier build here

    (tmp_path / spark_build.METASTORE).mkdir()  # an earlier build's catalog
    args.exclude, args.full_refresh = ["mart_maturity_groups"], False
    assert cmd_spark_build(args) == 0
    assert seen[-1] == {
        "dbt_args": ["--exclude", "mart_maturity_groups"],
        "full_refresh": False,
    }
    assert "incremental build" in capsys.readouterr().out

    args.exclude, args.full_refresh = None, True
    assert cmd_spark_build(args) == 0
    assert seen[-1] == {"dbt_args": [], "full_refresh": True}
    assert "incremental" not in capsys.readouterr().out
