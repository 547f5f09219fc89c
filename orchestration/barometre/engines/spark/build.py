"""`dbt build --target spark` on a local Spark session, from the raw tables as Parquet.

dbt-spark's `session` method runs every statement through the process's own Spark
session (SparkSession.builder.getOrCreate), so this module starts that session first,
with the settings below, registers raw.<table> over the exported Parquet folders, and
then runs dbt in the same process. The catalog is a Hive metastore kept in an embedded
Derby database of the work folder (<work>/metastore_db: nothing to install or run, the
jars come with pyspark), so a later build in the same work folder finds the tables of
the previous one and dbt's incremental models (core.fct_answers) replace only the
editions that changed. The tables' data are Parquet files under
<work>/spark-warehouse/<schema>.db/<table>/: the marts are read from there
(marts_parquet_glob).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from barometre.common.settings import get_settings

# Local mode on the machine's cores, the driver on the loopback interface only. A
# handful of shuffle partitions: the adaptive execution merges them anyway, and Spark's
# default (200) only adds scheduling work on data that fits in memory; raise it (--conf)
# on a cluster. UTC so that timestamps read from Parquet never move with the machine's
# zone. ANSI SQL (Spark 4's default) stays on: a bad cast fails as on DuckDB and
# PostgreSQL.
DEFAULT_CONF: dict[str, str] = {
    "spark.master": "local[*]",
    "spark.app.name": "barometre",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # the driver on the loopback interface only: a local session opens no outside port
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.memory": "2g",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    # the linked-cell suppression (macros/linked_suppression.sql) chains its passes in
    # one deep query: more than the analyzer's default 100 rounds to resolve
    "spark.sql.analyzer.maxIterations": "1000",
    # a persistent catalog (see the module's docstring): Hive's, in embedded Derby
    "spark.sql.catalogImplementation": "hive",
}
MART_SCHEMAS = ("marts", "restricted")
METASTORE = "metastore_db"
WAREHOUSE = "spark-warehouse"


@dataclass
class SparkBuild:
    """What a Spark build did, with its measured times (seconds)."""

    success: bool
    work_dir: Path
    seconds: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def marts(self) -> dict[str, str]:
        """`schema.table` → glob of that mart's Parquet files, for every built mart."""
        return marts_parquet_glob(self.work_dir)


def marts_parquet_glob(work_dir: Path) -> dict[str, str]:
    found = {}
    for schema in MART_SCHEMAS:
        folder = work_dir / WAREHOUSE / f"{schema}.db"
        if folder.is_dir():
            for table in sorted(p for p in folder.iterdir() if p.is_dir()):
                found[f"{schema}.{table.name}"] = str(table / "*.parquet")
    return found


def start_session(work_dir: Path, conf: Mapping[str, str] | None = None) -> Any:
    """The process's Spark session (pyspark.sql.SparkSession), tables under work_dir."""
    if shutil.which("java") is None:
        raise RuntimeError(
            "Spark needs Java 17 or later and `java` is not on PATH: install Debian's "
            "openjdk-17-jre-headless (apt-get install openjdk-17-jre-headless)"
        )
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise RuntimeError(
            "pyspark is not installed: Spark is the optional extra `spark` "
            '(pip install -c constraints.txt -e ".[spark]", or make test-spark)'
        ) from err
    builder = SparkSession.builder
    metastore = str(work_dir / METASTORE)
    settings = {
        **DEFAULT_CONF,
        "spark.sql.warehouse.dir": str(work_dir / WAREHOUSE),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={metastore};create=true"
        ),
        # Derby's own log (derby.log) in the work folder, not the current directory
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={work_dir}",
        **(conf or {}),
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def register_raw(session: Any, raw_dir: Path) -> list[str]:
    """raw.<table> over each Parquet folder of raw_dir (raw_parquet's layout)."""
    tables = sorted(p for p in raw_dir.iterdir() if p.is_dir() and any(p.glob("*.parquet")))
    if not tables:
        raise ValueError(f"no Parquet table folder in {raw_dir}")
    session.sql("CREATE DATABASE IF NOT EXISTS raw")
    for folder in tables:
        location = str(folder.resolve()).replace("'", "\\'")
        session.sql(f"DROP TABLE IF EXISTS raw.`{folder.name}`")
        session.sql(f"CREATE TABLE raw.`{folder.name}` USING parquet LOCATION '{location}'")
    return [p.name for p in tables]


def dbt_build(work_dir: Path, dbt_args: Sequence[str] = ()) -> tuple[bool, list[str]]:
    """`dbt build --target spark` in this process (the session must be started)."""
    from dbt.cli.main import dbtRunner

    settings = get_settings()
    args = [
        "build",
        "--target",
        "spark",
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_profiles_dir),
        # never rewrite dbt_project/target, whose manifest the Dagster code location reads
        "--target-path",
        str(work_dir / "dbt-target"),
        "--log-path",
        str(work_dir / "dbt-logs"),
        *dbt_args,
    ]
    result = dbtRunner().invoke(args)
    failures = []
    if result.result is not None and hasattr(result.result, "results"):
        failures = [
            f"{r.node.unique_id}: {r.status}"
            for r in result.result.results
            if str(r.status) in ("error", "fail")
        ]
    if result.exception is not None:
        failures.append(f"dbt: {result.exception}")
    return bool(result.success), failures


def build_on_spark(
    raw_dir: Path,
    work_dir: Path,
    conf: Mapping[str, str] | None = None,
    dbt_args: Sequence[str] = (),
    full_refresh: bool = False,
) -> SparkBuild:
    """Start the session, register the raw Parquet tables, run dbt build; times measured.

    In a work folder an earlier build left (its catalog and tables), the build is
    incremental; `full_refresh` starts from an empty catalog and warehouse instead."""
    work_dir.mkdir(parents=True, exist_ok=True)
    if full_refresh or not (work_dir / METASTORE).is_dir():
        # tables without their catalog (or a full refresh): their folders would block
        # dbt's CREATE TABLE at the same location
        shutil.rmtree(work_dir / WAREHOUSE, ignore_errors=True)
        shutil.rmtree(work_dir / METASTORE, ignore_errors=True)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    session = start_session(work_dir, conf)
    seconds["session_start"] = time.perf_counter() - start
    try:
        start = time.perf_counter()
        register_raw(session, raw_dir)
        seconds["register_raw"] = time.perf_counter() - start
        start = time.perf_counter()
        success, failures = dbt_build(work_dir, dbt_args)
        seconds["dbt_build"] = time.perf_counter() - start
    finally:
        session.stop()
    return SparkBuild(success, work_dir, seconds, failures)
