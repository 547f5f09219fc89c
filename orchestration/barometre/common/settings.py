"""Where things are: one home for every path the warehouse uses.

Defaults are resolved from this file's location, never from the working
directory, so the CLI, Dagster, dbt and the tests agree wherever they start.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]

ENV_DATA_DIR = "BAROMETRE_DATA_DIR"
ENV_WAREHOUSE = "BAROMETRE_WAREHOUSE"
ENV_DAGSTER_HOME = "DAGSTER_HOME"
ENV_MAX_BAD_SHARE = "BAROMETRE_MAX_BAD_SHARE"
ENV_PUBLISHED_DIR = "BAROMETRE_PUBLISHED_DIR"
ENV_WRITER_WAIT = "BAROMETRE_WRITER_WAIT_SECONDS"
ENV_REPORT_DIR = "BAROMETRE_REPORT_DIR"
ENV_TARGET = "BAROMETRE_TARGET"
ENV_PG_DSN = "BAROMETRE_PG_DSN"
ENV_SPARK_DIR = "BAROMETRE_SPARK_DIR"
ENV_DBT_MEMORY_LIMIT = "BAROMETRE_DBT_MEMORY_LIMIT"
ENV_DBT_THREADS = "BAROMETRE_DBT_THREADS"

TARGETS = ("duckdb", "postgres", "spark")
"""Where the warehouse is built: the embedded DuckDB file (default), a PostgreSQL
server (barometre.engines.postgres) or a local Spark session (barometre.engines.spark;
docs/scaling.md). Also the dbt profile's output names."""

SPARK_DIR_NAME = "spark"
"""Default Spark work folder: beside the working warehouse file (BAROMETRE_SPARK_DIR)."""

DEFAULT_MAX_BAD_SHARE = 0.05
"""Above this share of rows breaking the row contract, an edition is not loaded."""
DEFAULT_DBT_MEMORY_LIMIT = "4GB"
"""DuckDB memory_limit of dbt's connection (dbt_project/profiles.yml, where the same default
is written): beyond it DuckDB spills to `<warehouse>.tmp`. DuckDB target only."""
DEFAULT_DBT_THREADS = 2
"""Nodes dbt builds side by side on the DuckDB target (dbt_project/profiles.yml, where the
same default is written): while one node's query runs in DuckDB, the other thread does
dbt's own per-node work (compiling, events, a test's bookkeeping), ~20-35 ms for each of
~230 nodes (docs/performance.md, "Session 11: two dbt threads"). One DuckDB database in
one process: its transactions are isolated, and the nodes built side by side write
different tables."""
MAX_DBT_THREADS = 8
_MEMORY_LIMIT = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)
DEFAULT_WRITER_WAIT = 60.0
"""Seconds a writer (run, publish, a Dagster step) waits for another one to finish before
refusing in one line (barometre.common.writer_lock)."""


@dataclass(frozen=True)
class Settings:
    """Resolved paths for one process."""

    data_dir: Path
    warehouse: Path
    seeds_dir: Path
    dbt_project_dir: Path
    dagster_home: Path
    published_dir: Path
    report_dir: Path = PROJECT_ROOT / "build" / "report"
    """Where `barometre report` and the report asset write the HTML report."""
    max_bad_share: float = DEFAULT_MAX_BAD_SHARE
    writer_wait: float = DEFAULT_WRITER_WAIT
    target: str = "duckdb"
    """one of TARGETS (BAROMETRE_TARGET)"""
    pg_dsn: str = ""
    """libpq connection string or URI of the PostgreSQL warehouse (BAROMETRE_PG_DSN);
    empty: libpq's own PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD"""
    spark_dir_setting: Path | None = None
    """Work folder of the Spark target (BAROMETRE_SPARK_DIR); None: `spark_dir`'s default"""
    dbt_memory_limit: str = DEFAULT_DBT_MEMORY_LIMIT
    """DuckDB memory_limit of dbt's connection (BAROMETRE_DBT_MEMORY_LIMIT), e.g. 4GB"""
    dbt_threads: int = DEFAULT_DBT_THREADS
    """dbt threads on the DuckDB target (BAROMETRE_DBT_THREADS), 1 to MAX_DBT_THREADS"""

    @property
    def spark_dir(self) -> Path:
        """The Spark target's work folder: the raw tables as Parquet, the session's
        catalog (Derby metastore) and tables, dbt's artefacts of the Spark builds
        (barometre.engines.spark.session). Default: `spark/` beside the warehouse file."""
        return self.spark_dir_setting or self.warehouse.parent / SPARK_DIR_NAME

    @property
    def dbt_target_path(self) -> Path:
        """Where the Dagster code location's dbt manifest is prepared, relative to the
        dbt project: dbt renders the dispatched model configs (fct_answers' incremental
        strategy and partitioning) for the target's adapter when it parses, so Spark has
        a manifest of its own (`target/spark/`); DuckDB and PostgreSQL share `target/`."""
        return Path("target", "spark") if self.target == "spark" else Path("target")

    @property
    def dbt_manifest(self) -> Path:
        return self.dbt_project_dir / self.dbt_target_path / "manifest.json"

    @property
    def published_inside_warehouse_dir(self) -> bool:
        """The published copy lives under the working warehouse's folder (the default):
        that folder must then stay traversable by BI users (0711, not 0700)."""
        return self.published_dir.is_relative_to(self.warehouse.parent)

    @property
    def dbt_profiles_dir(self) -> Path:
        return self.dbt_project_dir

    @property
    def dbt_executable(self) -> Path:
        """dbt installed beside this Python (the venv), whatever PATH says."""
        return Path(sys.executable).with_name("dbt")


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def get_settings() -> Settings:
    """Read the settings from the environment (defaults inside the project)."""
    return Settings(
        data_dir=_path_from_env(ENV_DATA_DIR, PROJECT_ROOT / "data" / "raw"),
        warehouse=_path_from_env(ENV_WAREHOUSE, PROJECT_ROOT / "warehouse" / "barometre.duckdb"),
        seeds_dir=PROJECT_ROOT / "seeds",
        dbt_project_dir=PROJECT_ROOT / "dbt_project",
        dagster_home=_path_from_env(ENV_DAGSTER_HOME, PROJECT_ROOT / ".dagster"),
        published_dir=_path_from_env(ENV_PUBLISHED_DIR, PROJECT_ROOT / "warehouse" / "published"),
        report_dir=_path_from_env(ENV_REPORT_DIR, PROJECT_ROOT / "build" / "report"),
        max_bad_share=float(os.environ.get(ENV_MAX_BAD_SHARE, DEFAULT_MAX_BAD_SHARE)),
        writer_wait=_seconds_from_env(ENV_WRITER_WAIT, DEFAULT_WRITER_WAIT),
        target=_target_from_env(),
        pg_dsn=os.environ.get(ENV_PG_DSN, "").strip(),
        spark_dir_setting=_optional_path_from_env(ENV_SPARK_DIR),
        dbt_memory_limit=_memory_limit_from_env(),
        dbt_threads=_threads_from_env(),
    )


def _memory_limit_from_env() -> str:
    value = os.environ.get(ENV_DBT_MEMORY_LIMIT, "").strip() or DEFAULT_DBT_MEMORY_LIMIT
    if not _MEMORY_LIMIT.fullmatch(value):
        raise SystemExit(
            f"error: setting {ENV_DBT_MEMORY_LIMIT}={value!r} is not an amount of memory; "
            "write a number and a unit, e.g. 4GB or 1500MB"
        )
    return value


def _threads_from_env() -> int:
    value = os.environ.get(ENV_DBT_THREADS, "").strip()
    if not value:
        return DEFAULT_DBT_THREADS
    if not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= MAX_DBT_THREADS:
        raise SystemExit(
            f"error: setting {ENV_DBT_THREADS}={value!r} is not a number of dbt threads; "
            f"write a whole number from 1 to {MAX_DBT_THREADS} (1 builds one node at a time)"
        )
    return int(value)


def _optional_path_from_env(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser().resolve() if value else None


def _target_from_env() -> str:
    value = os.environ.get(ENV_TARGET, "").strip().lower() or "duckdb"
    if value not in TARGETS:
        raise SystemExit(
            f"error: setting {ENV_TARGET}={value!r} is not a known target; use one of "
            f"{', '.join(TARGETS)}"
        )
    return value


def _seconds_from_env(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        seconds = float(value) if value else default
    except ValueError:
        raise SystemExit(f"error: setting {name}={value!r} is not a number of seconds") from None
    return max(seconds, 0.0)


def export_environment(settings: Settings) -> None:
    """Publish the resolved settings to child processes (dbt reads BAROMETRE_WAREHOUSE),
    and put the folder of this Python's dbt first on PATH: dagster-dbt's own project
    preparation runs `dbt` from PATH, and must run the dbt installed with the project."""
    bin_dir = str(settings.dbt_executable.parent)
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir
    os.environ[ENV_DATA_DIR] = str(settings.data_dir)
    os.environ[ENV_WAREHOUSE] = str(settings.warehouse)
    os.environ[ENV_DAGSTER_HOME] = str(settings.dagster_home)
    os.environ[ENV_PUBLISHED_DIR] = str(settings.published_dir)
    os.environ[ENV_REPORT_DIR] = str(settings.report_dir)
    os.environ[ENV_TARGET] = settings.target
    os.environ[ENV_DBT_MEMORY_LIMIT] = settings.dbt_memory_limit  # profiles.yml's duckdb output
    os.environ[ENV_DBT_THREADS] = str(settings.dbt_threads)  # profiles.yml's duckdb output
    if settings.target == "postgres":  # dbt's postgres output reads them (profiles.yml)
        from barometre.engines.postgres.connection import export_dbt_environment

        export_dbt_environment(settings.pg_dsn)
    if settings.target == "spark":  # dbt's spark output reads them (profiles.yml)
        from barometre.engines.spark.session import export_dbt_environment as spark_env

        os.environ[ENV_SPARK_DIR] = str(settings.spark_dir)
        spark_env(settings.spark_dir)
