"""The Spark session's settings, one home for every way dbt meets Spark.

Two processes start a local Spark session, with the same settings:
- `barometre spark-build` starts it in its own process, then runs dbt there (build.py);
- the Dagster dbt step (BAROMETRE_TARGET=spark) runs `dbt build --target spark` as a
  child process (dagster-dbt's DbtCliResource), and dbt-spark's `session` method starts
  it there from the profile's `server_side_parameters` (dbt_project/profiles.yml, output
  `spark`), which reads them from the environment variable written here.

The work folder holds everything a session keeps between builds: the catalog (a Hive
metastore in an embedded Derby database, `metastore_db/`: nothing to install or run,
the jars come with pyspark; one process at a time), the tables' Parquet files
(`spark-warehouse/<schema>.db/<table>/`), the raw tables as Parquet (`raw-parquet/`,
raw_parquet.py) and dbt's artefacts of the Spark builds.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

ENV_SPARK_CONF = "BAROMETRE_SPARK_CONF"
"""The session's settings as a JSON object (profiles.yml, `server_side_parameters`)."""
ENV_SPARK_RAW_DIR = "BAROMETRE_SPARK_RAW_DIR"
"""The raw tables as Parquet, registered as the dbt source `raw` when dbt starts
(macro register_raw_source, on-run-start)."""

METASTORE = "metastore_db"
WAREHOUSE = "spark-warehouse"
RAW_PARQUET = "raw-parquet"

# Local mode on the machine's cores, the driver on the loopback interface only. A
# handful of shuffle partitions: the adaptive execution merges them anyway, and Spark's
# default (200) only adds scheduling work on data that fits in memory; raise it (--conf)
# on a cluster. UTC so that timestamps read from Parquet never move with the machine's
# zone. (dbt-spark sets spark.sql.ansi.enabled=false on every session it uses.)
DEFAULT_CONF: dict[str, str] = {
    "spark.master": "local[*]",
    "spark.app.name": "barometre",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # only errors in the log: dbt-spark applies the settings again on every statement,
    # which an existing session answers with a warning each time
    "spark.log.level": "ERROR",
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


def session_conf(work_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every setting of a session whose catalog and tables live in `work_dir`."""
    work_dir = Path(work_dir).resolve()
    metastore = work_dir / METASTORE
    return {
        **DEFAULT_CONF,
        "spark.sql.warehouse.dir": str(work_dir / WAREHOUSE),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={metastore};create=true"
        ),
        # Derby's own log (derby.log) in the work folder, not the current directory
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={work_dir}",
        **(extra or {}),
    }


def export_dbt_environment(
    work_dir: Path, raw_dir: Path | None = None, extra: Mapping[str, str] | None = None
) -> None:
    """Tell dbt's `spark` output (profiles.yml) the session's settings and where the raw
    Parquet tables are, through the environment (read by dbt in this process or a child)."""
    os.environ[ENV_SPARK_CONF] = json.dumps(session_conf(work_dir, extra), sort_keys=True)
    os.environ[ENV_SPARK_RAW_DIR] = str(Path(raw_dir or Path(work_dir) / RAW_PARQUET).resolve())


EXTRA_HINT = (
    'install the optional extra `spark` (.venv/bin/pip install -c constraints.txt -e ".[spark]", '
    "or `make test-spark`, which also installs Java when root; docs/scaling.md)"
)


def missing_requirements() -> str | None:
    """Why a Spark build cannot start on this machine (in one line), or None."""
    missing = [
        name
        for name, module in (("pyspark", "pyspark"), ("dbt-spark", "dbt.adapters.spark"))
        if _find_spec(module) is None
    ]
    if missing:
        return f"the Spark target needs {' and '.join(missing)}, not installed: {EXTRA_HINT}"
    if shutil.which("java") is None:
        return (
            "Spark needs Java 17 or later and `java` is not on PATH: install Debian's "
            "openjdk-17-jre-headless (apt-get install openjdk-17-jre-headless)"
        )
    return None


def _find_spec(module: str) -> object | None:
    try:
        return importlib.util.find_spec(module)
    except ModuleNotFoundError:  # a parent package is missing
        return None
