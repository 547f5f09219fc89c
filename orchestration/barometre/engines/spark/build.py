"""`dbt build --target spark` on a local Spark session, from the raw tables as Parquet.

dbt-spark's `session` method runs every statement through the process's own Spark
session (SparkSession.builder.getOrCreate), so this module starts that session first,
with the settings of session.py (the same as the Dagster dbt step's child process), and
then runs dbt in the same process, which registers raw.<table> over the exported Parquet
folders when it starts (macro register_raw_source). The catalog is a Hive metastore kept
in an embedded Derby database of the work folder (<work>/metastore_db: nothing to
install or run, the jars come with pyspark), so a later build in the same work folder
finds the tables of the previous one and dbt's incremental models (core.fct_answers)
replace only the editions that changed. The tables' data are Parquet files under
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
from barometre.engines.spark.raw_parquet import check_raw_dir
from barometre.engines.spark.session import (
    DEFAULT_CONF,  # noqa: F401 (its home is session.py; imported here as before)
    METASTORE,
    WAREHOUSE,
    export_dbt_environment,
    missing_requirements,
    session_conf,
)

MART_SCHEMAS = ("marts", "restricted")


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
    """The process's Spark session (pyspark.sql.SparkSession), tables under work_dir,
    with the settings of session.session_conf (the same as dbt's child processes)."""
    problem = missing_requirements()
    if problem:
        raise RuntimeError(problem)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in session_conf(work_dir, conf).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


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
    """Start the session, run dbt build (which registers the raw Parquet tables first);
    times measured.

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
    check_raw_dir(raw_dir)
    # dbt's spark output reads the same settings (the session is already started: only
    # its runtime settings apply again) and registers raw.<table> over raw_dir's
    # folders when it starts (macro register_raw_source)
    export_dbt_environment(work_dir, raw_dir, conf)
    session = start_session(work_dir, conf)
    seconds["session_start"] = time.perf_counter() - start
    try:
        start = time.perf_counter()
        success, failures = dbt_build(work_dir, dbt_args)
        seconds["dbt_build"] = time.perf_counter() - start
    finally:
        session.stop()
    return SparkBuild(success, work_dir, seconds, failures)
