"""The same dbt project on Spark: the bundled sample built on a local Spark session
(`barometre spark-build`, from the raw tables exported as Parquet) passes every model and
test, and publishes the same marts as the DuckDB build, every one of them, row for row
(the linked-cell suppression included: one model per pass, so that Spark's analyzer
never plans more than one pass in a query, docs/scaling.md); a build in the work folder
of an earlier one is incremental and ends with the same tables as a full build.

`make test-spark` only (optional extra `spark`, Java 17; minutes, not seconds).
Float columns are compared to 1e-12 relative: the two engines' double arithmetic may
differ in the last bits (a median interpolated, a square root); every other column, and
every float's NULL-ness, must be equal. docs/scaling.md records the measured time.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from barometre.common.settings import ENV_WAREHOUSE
from barometre.engines.spark.build import marts_parquet_glob

pytestmark = pytest.mark.spark

REL_TOL = 1e-12


@pytest.fixture(scope="module")
def spark_build(sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spark")
    barometre = Path(sys.executable).with_name("barometre")
    result = subprocess.run(
        [str(barometre), "spark-build", str(out)],
        env={**os.environ, ENV_WAREHOUSE: str(sample_warehouse)},
        capture_output=True,
        text=True,
        check=False,
    )
    print(result.stdout[-3000:])
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return out


def _rows(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[list[tuple], list[tuple]]:
    """(column name, type) in order, and the rows in a total order."""
    columns = [(c[0], c[1]) for c in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    return columns, con.execute(f"SELECT * FROM {relation} ORDER BY ALL").fetchall()


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=REL_TOL)
    return a == b


def test_sample_marts_on_spark_equal_duckdb(sample_warehouse: Path, spark_build: Path) -> None:
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        duckdb_marts = {
            f"{s}.{t}"
            for s, t in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema IN ('marts', 'restricted')"
            ).fetchall()
        }
        spark_marts = marts_parquet_glob(spark_build)
        assert set(spark_marts) == duckdb_marts
        assert {"marts.mart_theme_maturity", "marts.mart_transverse_maturity"} <= duckdb_marts
        inexact = {}
        for name in sorted(spark_marts):
            columns, expected = _rows(con, name)
            spark_columns, found = _rows(con, f"read_parquet('{spark_marts[name]}')")
            assert spark_columns == columns, name  # names, order and types
            assert len(found) == len(expected), name
            for row_e, row_f in zip(expected, found, strict=True):
                for (column, _type), e, f in zip(columns, row_e, row_f, strict=True):
                    assert _same(e, f), f"{name}.{column}: DuckDB {e!r}, Spark {f!r}"
                    if e != f:
                        inexact[f"{name}.{column}"] = inexact.get(f"{name}.{column}", 0) + 1
        # how many floats differed in their last bits, for docs/scaling.md
        print(f"floats equal within {REL_TOL} but not bit for bit: {inexact or 'none'}")
    finally:
        con.close()


def _raw_of(full_raw: Path, out: Path, editions: tuple[str, ...]) -> Path:
    """The raw Parquet tables of the sample, these editions' rows only."""
    con = duckdb.connect()
    listed = ", ".join(f"'{e}'" for e in editions)
    for folder in sorted(p for p in full_raw.iterdir() if p.is_dir()):
        (out / folder.name).mkdir(parents=True)
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{folder}/*.parquet') "
            f"WHERE edition_code IN ({listed})) "
            f"TO '{out / folder.name / 'part-0.parquet'}' (FORMAT parquet)"
        )
    con.close()
    return out


def _build_fact_only(raw: Path, work: Path) -> None:
    """core.fct_answers and what it reads, on Spark, in `work` (incremental when `work`
    holds an earlier build): a subprocess, as the CLI runs it. Only the tests whose
    every parent is built (`cautious`): dbt's default also picks relationship tests to
    models outside the selection, which do not exist in this work folder."""
    code = (
        "import sys; from pathlib import Path; "
        "from barometre.engines.spark.build import build_on_spark; "
        "b = build_on_spark(Path(sys.argv[1]), Path(sys.argv[2]), "
        "dbt_args=['--select', '+fct_answers', '--indirect-selection', 'cautious']); "
        "print(b.seconds, b.failures); sys.exit(0 if b.success else 1)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(raw), str(work)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]


def _fact_files(work: Path) -> dict[str, dict[str, int]]:
    """core.fct_answers' partitions (edition) → its Parquet files → modification time."""
    table = work / "spark-warehouse" / "core.db" / "fct_answers"
    return {
        part.name.removeprefix("edition_code="): {
            f.name: f.stat().st_mtime_ns for f in part.glob("*.parquet")
        }
        for part in sorted(table.glob("edition_code=*"))
    }


def _fact_rows(con: duckdb.DuckDBPyConnection, work: Path) -> list[tuple]:
    table = work / "spark-warehouse" / "core.db" / "fct_answers"
    return con.execute(
        f"SELECT * FROM read_parquet('{table}/*/*.parquet', hive_partitioning = true) ORDER BY ALL"
    ).fetchall()


def test_an_incremental_spark_build_equals_a_full_one(
    spark_build: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Three builds in one work folder: 2021 alone, then 2018 alone (2021's partition is
    dropped: no longer loaded), then both (2018 kept as it was, 2021 added); the last one
    ends with the fact table and the marts of the full build, row for row."""
    scratch = tmp_path_factory.mktemp("spark-incremental")
    full_raw = spark_build / "raw-parquet"
    work = scratch / "work"
    _build_fact_only(_raw_of(full_raw, scratch / "raw-2021", ("2021",)), work)
    assert set(_fact_files(work)) == {"2021"}
    _build_fact_only(_raw_of(full_raw, scratch / "raw-2018", ("2018",)), work)
    files_2018 = _fact_files(work)
    assert set(files_2018) == {"2018"}  # the edition no longer loaded is gone
    barometre = Path(sys.executable).with_name("barometre")
    result = subprocess.run(
        [str(barometre), "spark-build", str(work), "--raw", str(full_raw)],
        capture_output=True,
        text=True,
        check=False,
    )
    print(result.stdout[-3000:])
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert "incremental build" in result.stdout
    files = _fact_files(work)
    assert set(files) == {"2018", "2021"}
    assert files["2018"] == files_2018["2018"]  # unchanged edition: not rewritten
    con = duckdb.connect()
    try:
        assert _fact_rows(con, work) == _fact_rows(con, spark_build)
        full, incremental = marts_parquet_glob(spark_build), marts_parquet_glob(work)
        assert set(incremental) == set(full)
        for name in sorted(full):
            assert _rows(con, f"read_parquet('{incremental[name]}')") == _rows(
                con, f"read_parquet('{full[name]}')"
            ), name
    finally:
        con.close()
