"""The spark target of the Dagster pipeline (BAROMETRE_TARGET=spark), without Spark: the
settings and their one home, the profile's `spark` output rendered from them, the raw
Parquet export kept up to date and whole, the Spark tables read back as a DuckDB file
for the suites and publishing, and the refusals told in words when the optional extra
is missing. The pipeline itself on Spark: tests/test_spark_dagster.py (`make test-spark`).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml

from barometre.common.settings import (
    ENV_SPARK_DIR,
    ENV_TARGET,
    ENV_WAREHOUSE,
    PROJECT_ROOT,
    export_environment,
    get_settings,
)
from barometre.engines.spark import raw_parquet
from barometre.engines.spark import session as spark_session
from barometre.engines.spark.output import OUTPUT_DB, SparkOutputError, write_output
from barometre.engines.spark.raw_parquet import (
    SOURCE_TABLES,
    check_raw_dir,
    export_if_stale,
    export_raw_parquet,
)
from barometre.engines.spark.session import (
    DEFAULT_CONF,
    ENV_SPARK_CONF,
    ENV_SPARK_RAW_DIR,
    export_dbt_environment,
    missing_requirements,
    session_conf,
)


@pytest.fixture
def spark_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """BAROMETRE_TARGET=spark with the warehouse in tmp_path; the environment restored
    afterwards (export_environment writes several variables)."""
    saved = dict(os.environ)
    monkeypatch.setenv(ENV_TARGET, "spark")
    monkeypatch.setenv(ENV_WAREHOUSE, str(tmp_path / "wh" / "w.duckdb"))
    monkeypatch.delenv(ENV_SPARK_DIR, raising=False)
    yield tmp_path
    os.environ.clear()
    os.environ.update(saved)


def test_spark_is_a_target_with_its_work_folder_and_manifest(
    spark_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings()
    assert settings.target == "spark"
    assert settings.spark_dir == spark_env / "wh" / "spark"  # beside the warehouse
    assert settings.dbt_manifest == settings.dbt_project_dir / "target/spark/manifest.json"
    monkeypatch.setenv(ENV_SPARK_DIR, str(spark_env / "elsewhere"))
    assert get_settings().spark_dir == spark_env / "elsewhere"
    monkeypatch.setenv(ENV_TARGET, "duckdb")
    assert get_settings().dbt_manifest == settings.dbt_project_dir / "target/manifest.json"
    monkeypatch.setenv(ENV_TARGET, "sparc")
    with pytest.raises(SystemExit, match="duckdb, postgres, spark"):
        get_settings()


def test_the_session_settings_have_one_home_read_by_the_profile(spark_env: Path) -> None:
    """export_environment gives dbt's `spark` output (profiles.yml) the settings of
    session_conf, the ones `barometre spark-build` starts its own session with."""
    from dbt.config.profile import read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    export_environment(get_settings())
    work = spark_env / "wh" / "spark"
    expected = session_conf(work)
    assert {k: expected[k] for k in DEFAULT_CONF} == DEFAULT_CONF
    assert expected["spark.sql.warehouse.dir"] == str(work / "spark-warehouse")
    assert str(work / "metastore_db") in expected["spark.hadoop.javax.jdo.option.ConnectionURL"]
    assert os.environ[ENV_SPARK_RAW_DIR] == str(work / "raw-parquet")

    set_invocation_context(os.environ)
    output = read_profile(str(PROJECT_ROOT / "dbt_project"))["barometre"]["outputs"]["spark"]
    rendered = ProfileRenderer({}).render_data(output)
    assert rendered["method"] == "session"
    assert rendered["server_side_parameters"] == expected

    # a setting of one build (spark-build --conf) reaches dbt the same way
    export_dbt_environment(work, spark_env / "raw", {"spark.master": "local[1]"})
    conf = json.loads(os.environ[ENV_SPARK_CONF])
    assert conf["spark.master"] == "local[1]"
    assert os.environ[ENV_SPARK_RAW_DIR] == str(spark_env / "raw")


def test_missing_extra_or_java_is_said_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_session, "_find_spec", lambda module: None)
    problem = missing_requirements()
    assert problem is not None
    assert "pyspark and dbt-spark" in problem and "make test-spark" in problem
    assert '".[spark]"' in problem
    monkeypatch.setattr(spark_session, "_find_spec", lambda module: object())
    monkeypatch.setattr(spark_session.shutil, "which", lambda _name: None)
    assert "openjdk-17-jre-headless" in (missing_requirements() or "")


@pytest.mark.parametrize("verb", ["run", "prepare"])
def test_run_and_prepare_on_spark_without_the_extra_refuse_in_words(
    verb: str,
    spark_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from barometre.serve.cli.prepare import cmd_prepare
    from barometre.serve.cli.run import cmd_run

    monkeypatch.setattr(spark_session, "_find_spec", lambda module: None)
    if verb == "run":
        monkeypatch.delenv(ENV_TARGET)
        args = argparse.Namespace(target="spark", edition=None, reload=False, full_refresh=False)
        assert cmd_run(args) == 1
    else:
        assert cmd_prepare(argparse.Namespace()) == 1
    err = capsys.readouterr().err
    assert "make test-spark" in err and "Traceback" not in err
    assert not (spark_env / "wh").exists()  # nothing written


def _warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA raw")
    for table in SOURCE_TABLES:
        con.execute(f"CREATE TABLE raw.{table} AS SELECT '2021' AS edition_code, 1 AS n")
    con.close()
    return path


def test_the_raw_export_follows_the_load_log_and_is_replaced_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb")
    out = tmp_path / "spark" / "raw-parquet"
    assert export_if_stale(warehouse, out) == dict.fromkeys(SOURCE_TABLES, 1)
    assert export_if_stale(warehouse, out) is None  # current: nothing written
    con = duckdb.connect(str(warehouse))
    con.execute("INSERT INTO raw.load_log VALUES ('2018', 2)")  # a new load
    con.close()
    assert export_if_stale(warehouse, out) == {**dict.fromkeys(SOURCE_TABLES, 1), "load_log": 2}
    assert sorted(p.name for p in out.parent.iterdir()) == ["raw-parquet"]  # no leftovers

    # a failed export keeps the previous one whole
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE TABLE raw.zz_fails AS SELECT 1 AS x")
    con.close()

    def failing_swap(new: Path, out_dir: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(raw_parquet, "_swap_in", failing_swap)
    with pytest.raises(OSError, match="disk full"):
        export_raw_parquet(warehouse, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(SOURCE_TABLES)
    assert not [p for p in out.parent.iterdir() if ".partial-" in p.name]


def test_a_raw_folder_without_a_source_table_is_refused_by_name(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb")
    out = tmp_path / "raw"
    export_raw_parquet(warehouse, out)
    for part in (out / "quarantine").iterdir():
        part.unlink()
    with pytest.raises(ValueError, match=r"no Parquet files for raw table\(s\) quarantine"):
        check_raw_dir(out)
    with pytest.raises(ValueError, match="no folder of raw Parquet tables"):
        check_raw_dir(tmp_path / "missing")


def test_source_tables_are_the_dbt_source_raw() -> None:
    staging = yaml.safe_load((PROJECT_ROOT / "models/staging/_staging.yml").read_text())
    (raw,) = [s for s in staging["sources"] if s["name"] == "raw"]
    assert tuple(sorted(t["name"] for t in raw["tables"])) == SOURCE_TABLES


def _spark_like(work: Path) -> None:
    """Spark's layout of a few tables, written by DuckDB: a partitioned fact table, a
    mart, a seed, and Spark's own files that are not data."""
    con = duckdb.connect()
    tables = work / "spark-warehouse"
    (tables / "core.db").mkdir(parents=True)
    con.execute(
        "COPY (SELECT * FROM (VALUES ('2018', 1), ('2021', 2)) t(edition_code, n)) "
        f"TO '{tables / 'core.db' / 'fct_answers'}' (FORMAT parquet, PARTITION_BY edition_code)"
    )
    for schema, table, sql in (
        ("marts", "mart_x", "SELECT 'a''b' AS label, 1.5 AS mean"),
        ("reference", "editions", "SELECT '2021' AS edition_code"),
    ):
        folder = tables / f"{schema}.db" / table
        folder.mkdir(parents=True)
        con.execute(f"COPY ({sql}) TO '{folder / 'part-00000.parquet'}' (FORMAT parquet)")
        (folder / "_SUCCESS").write_text("")
        (folder / "_temporary").mkdir()
        con.execute(
            f"COPY (SELECT 'junk' AS label) TO '{folder / '_temporary' / 'x.parquet'}' "
            "(FORMAT parquet)"
        )
    raw = work / "raw-parquet" / "load_log"
    raw.mkdir(parents=True)
    con.execute(f"COPY (SELECT '2021' AS edition_code) TO '{raw / 'part-0.parquet'}'")
    (tables / "marts.db" / "mart_empty").mkdir()  # a table folder without data files
    con.close()


def test_spark_tables_read_back_as_a_file_laid_out_like_the_warehouse(tmp_path: Path) -> None:
    work = tmp_path / "spark"
    with pytest.raises(SparkOutputError, match="BAROMETRE_TARGET=spark barometre run"):
        write_output(work)
    _spark_like(work)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "nodes": {
                    "model.barometre.mart_x": {
                        "resource_type": "model",
                        "schema": "marts",
                        "name": "mart_x",
                        "alias": "mart_x",
                        "description": "Une table d'exemple.",
                        "columns": {"mean": {"description": "La moyenne."}, "gone": {}},
                    }
                }
            }
        )
    )
    path = write_output(work, manifest)
    assert path == work / OUTPUT_DB
    con = duckdb.connect(str(path), read_only=True)
    try:
        kinds = dict(
            con.execute(
                "SELECT table_schema || '.' || table_name, table_type "
                "FROM information_schema.tables ORDER BY 1"
            ).fetchall()
        )
        assert kinds == {
            "core.fct_answers": "VIEW",  # read where it lies
            "marts.mart_x": "BASE TABLE",  # copied: what publishing reads
            "raw.load_log": "BASE TABLE",
            "reference.editions": "BASE TABLE",
        }
        assert con.execute("SELECT * FROM marts.mart_x").fetchall() == [("a'b", 1.5)]
        # the partition column is text, as Spark declares it
        assert con.execute(
            "SELECT typeof(edition_code), n FROM core.fct_answers ORDER BY n"
        ).fetchall() == [("VARCHAR", 1), ("VARCHAR", 2)]
        assert con.execute(
            "SELECT comment FROM duckdb_tables() WHERE table_name = 'mart_x'"
        ).fetchone() == ("Une table d'exemple.",)
        assert con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'mart_x' "
            "ORDER BY 1"
        ).fetchall() == [("label", None), ("mean", "La moyenne.")]
    finally:
        con.close()
    assert sorted(p.name for p in work.iterdir() if p.name.startswith(".")) == []


def _publication_without_marts() -> duckdb.DuckDBPyConnection:
    """An in-memory database laid out like a publication, with no mart."""
    con = duckdb.connect()
    con.execute("SET python_enable_replacements = false")  # no Python object as a table
    con.execute("CREATE SCHEMA reference")
    con.execute("CREATE SCHEMA meta")
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE meta.publication AS SELECT 'v1' AS version, now() AS published_at")
    con.execute(
        "CREATE TABLE reference.editions AS SELECT '2021' AS edition_code, 2021 AS "
        "edition_year, 2 AS edition_number, NULL AS field_start, NULL AS field_end, "
        "6 AS scale_size, 10 AS theme_count, 'x' AS label_fr"
    )
    return con


def test_a_report_on_a_publication_without_its_marts_says_which(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A publication lacking a mart the report reads (e.g. a Spark build stopped before
    its marts) is refused in words, never a database traceback."""
    from barometre.serve.report.build import ReportError, read_data

    monkeypatch.setenv(ENV_TARGET, "duckdb")
    with pytest.raises(ReportError, match="lacks a table the report reads") as refused:
        read_data(tmp_path, None, connection=_publication_without_marts())
    assert "Traceback" not in str(refused.value)
