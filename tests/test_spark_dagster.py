"""The Dagster pipeline on Spark: `barometre run` with BAROMETRE_TARGET=spark on the
bundled sample (the same Definitions, assets and jobs as on DuckDB), in a temporary
folder, publishes the same marts as the same command on DuckDB.

- ingestion is DuckDB's, then the raw tables go to Parquet for Spark;
- `dbt build --target spark` runs as dagster-dbt's child process, the session's
  settings read from the profile (barometre.engines.spark.session);
- the great-expectations suites run on the Spark tables (a DuckDB file of views over
  their Parquet files) and their checks pass;
- publishing copies the marts Spark built into the published DuckDB file: the same
  tables, columns, types, descriptions and rows as the DuckDB run's.

`make test-spark` only (optional extra `spark`, Java 17; tens of minutes on a shared
machine). Doubles are compared to 1e-12 relative, as tests/test_spark.py does.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from barometre.common.settings import PROJECT_ROOT

pytestmark = pytest.mark.spark

BAROMETRE = str(Path(sys.executable).with_name("barometre"))
REL_TOL = 1e-12
PUBLISHED_SCHEMAS = ("marts", "reference")


def _run(home: Path, target: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "BAROMETRE_TARGET": target,
        "BAROMETRE_DATA_DIR": str(PROJECT_ROOT / "data" / "raw"),
        "BAROMETRE_WAREHOUSE": str(home / "warehouse" / "barometre.duckdb"),
        "BAROMETRE_PUBLISHED_DIR": str(home / "published"),
        "BAROMETRE_REPORT_DIR": str(home / "report"),
        "DAGSTER_HOME": str(home / "dagster"),
    }
    env.pop("BAROMETRE_SPARK_DIR", None)
    started, cpu = time.perf_counter(), os.times()
    result = subprocess.run(
        [BAROMETRE, "run"], env=env, cwd=home, capture_output=True, text=True, check=False
    )
    used = os.times()
    print(
        f"barometre run on {target}: {time.perf_counter() - started:.0f} s wall, "
        f"{used.children_user - cpu.children_user + used.children_system - cpu.children_system:.0f}"
        f" s CPU (children), load average {os.getloadavg()}"
    )
    return result


@pytest.fixture(scope="module")
def homes() -> Iterator[dict[str, Path]]:
    """The sample run by `barometre run` on DuckDB, then on Spark, each in its own folder."""
    root = Path(tempfile.mkdtemp(prefix="barometre-spark-dagster-"))
    try:
        found = {}
        for target in ("duckdb", "spark"):
            home = root / target
            home.mkdir()
            result = _run(home, target)
            (home / "stdout.txt").write_text(result.stdout + result.stderr)
            assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
            found[target] = home
        yield found
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_spark_run_builds_in_its_work_folder(homes: dict[str, Path]) -> None:
    out = (homes["spark"] / "stdout.txt").read_text()
    assert "Traceback" not in out
    assert "[dbt] build and publish: ok" in out
    # the Spark build's tables, in the work folder beside the warehouse
    tables = homes["spark"] / "warehouse" / "spark" / "spark-warehouse"
    assert (tables / "core.db" / "fct_answers").is_dir()
    assert not (homes["spark"] / "warehouse" / "dbt-target").exists()


def _published(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "published" / "barometre.duckdb"), read_only=True)


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    listed = ", ".join(f"'{s}'" for s in PUBLISHED_SCHEMAS)
    return {
        f"{s}.{t}": c
        for s, t, c in con.execute(
            "SELECT schema_name, table_name, comment FROM duckdb_tables() "
            f"WHERE schema_name IN ({listed})"
        ).fetchall()
    }


def _columns(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple]:
    schema, table = name.split(".")
    return con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() "
        "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, table],
    ).fetchall()


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=REL_TOL)
    return a == b


def test_spark_publishes_the_marts_of_duckdb(homes: dict[str, Path]) -> None:
    duck, spark = _published(homes["duckdb"]), _published(homes["spark"])
    try:
        duck_tables, spark_tables = _tables(duck), _tables(spark)
        assert set(spark_tables) == set(duck_tables)
        assert any(t.startswith("marts.") for t in spark_tables)
        for name in sorted(spark_tables):
            assert spark_tables[name] == duck_tables[name], f"{name}: table description"
            columns = _columns(duck, name)
            assert _columns(spark, name) == columns, name  # names, types, descriptions
            order = f"SELECT * FROM {name} ORDER BY ALL"
            expected, found = duck.execute(order).fetchall(), spark.execute(order).fetchall()
            assert len(found) == len(expected), name
            for row_e, row_f in zip(expected, found, strict=True):
                for column, e, f in zip(columns, row_e, row_f, strict=True):
                    assert _same(e, f), f"{name}.{column[0]}: DuckDB {e!r}, Spark {f!r}"
    finally:
        duck.close()
        spark.close()


def _check_results(home: Path) -> dict[tuple[str, str], bool]:
    """(asset, check) → passed, of every check the last `transform` run evaluated."""
    from dagster import DagsterEventType, DagsterInstance, RunsFilter

    with DagsterInstance.from_config(str(home / "dagster")) as instance:
        (run,) = instance.get_runs(RunsFilter(job_name="transform"), limit=1)
        return {
            (e.asset_key.to_user_string(), e.check_name): e.passed
            for entry in instance.all_logs(
                run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
            )
            if (e := entry.dagster_event.event_specific_data) is not None
        }


def test_the_suites_judge_the_spark_tables_as_the_duckdb_ones(homes: dict[str, Path]) -> None:
    """Every great-expectations check evaluated on Spark's tables, with the outcome it
    has on DuckDB's (a warning such as the drift check fails on both)."""
    from barometre.validate.suites import TARGETS

    suites = {("/".join(t.asset_key), t.check_name) for t in TARGETS}
    on_duckdb = {k: v for k, v in _check_results(homes["duckdb"]).items() if k in suites}
    on_spark = {k: v for k, v in _check_results(homes["spark"]).items() if k in suites}
    assert ("core/fct_answers", "gx_fct_answers") in on_spark
    assert on_spark == on_duckdb


def _transform_job(tmp_path: Path, target: str) -> dict[str, list[str]]:
    """The `transform` job's assets, checks and publishing's parents, as the code
    location defines them on `target` (a fresh process: the target is read at load)."""
    code = """
import json
from dagster import AssetKey
from barometre.definitions import defs
job = defs.resolve_job_def("transform")
graph = job.asset_layer.asset_graph
print(json.dumps({
    "selected": sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys),
    "checks": sorted(f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys),
    "published_deps": sorted(
        k.to_user_string() for k in graph.get(AssetKey("published_warehouse")).parent_keys
    ),
}))
"""
    env = {
        **os.environ,
        "BAROMETRE_TARGET": target,
        "BAROMETRE_WAREHOUSE": str(tmp_path / target / "w.duckdb"),
        "DAGSTER_HOME": str(tmp_path / target / "dagster"),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    import json

    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_transform_job_on_spark_is_the_duckdb_one(tmp_path: Path) -> None:
    """The same assets and checks point at Spark: the `transform` job selects the same
    assets (the report included), the same checks (dbt tests and great-expectations
    suites) and publishing reads the same marts. Needs the Spark manifest (`make
    test-spark` prepares it)."""
    on_spark = _transform_job(tmp_path, "spark")
    assert on_spark == _transform_job(tmp_path, "duckdb")
    assert "barometre_report" in on_spark["selected"]
    assert "marts/mart_theme_maturity" in on_spark["published_deps"]
    assert any(c.startswith("marts/mart_theme_maturity:") for c in on_spark["checks"])
