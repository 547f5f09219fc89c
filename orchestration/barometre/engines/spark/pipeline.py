"""What the Dagster stages do on the spark target (BAROMETRE_TARGET=spark), one home:

- ingestion (ingest/assets.py), after each edition it loads: the raw schema exported as
  Parquet into the work folder (raw_parquet.py), as it copies the raw rows to the server
  on postgres; the row contract, quarantine and load log stay DuckDB's;
- the dbt step (transform/dbt_assets.py): the export written again first when it no
  longer matches the warehouse's load log, then `dbt build --target spark` as a child
  process (dagster-dbt), whose session settings come from the profile (session.py) and
  which registers the raw tables in the catalog when it starts;
- the great-expectations suites and publishing read the Spark tables through a DuckDB
  file of views and copies (output.py).
"""

from __future__ import annotations

from pathlib import Path

from barometre.common.settings import Settings
from barometre.engines.spark.session import RAW_PARQUET


def raw_dir(settings: Settings) -> Path:
    return settings.spark_dir / RAW_PARQUET


def export_raw(settings: Settings) -> dict[str, int]:
    """The warehouse's raw schema as Parquet for Spark (after an ingestion)."""
    from barometre.engines.spark.raw_parquet import export_raw_parquet

    return export_raw_parquet(settings.warehouse, raw_dir(settings))


def export_raw_if_stale(settings: Settings) -> dict[str, int] | None:
    """The export written again when it does not match the warehouse (before dbt)."""
    from barometre.engines.spark.raw_parquet import export_if_stale

    return export_if_stale(settings.warehouse, raw_dir(settings))


def write_output(settings: Settings) -> Path:
    """The Spark tables as a DuckDB file laid out like the warehouse (output.py)."""
    from barometre.engines.spark.output import write_output as write

    return write(settings.spark_dir, settings.dbt_manifest, raw_dir(settings))


def publication_source(settings: Settings) -> Path:
    """What publishing copies on the spark target (the file of write_output);
    PublishError when nothing was built."""
    from barometre.engines.spark.output import SparkOutputError
    from barometre.publish.publication import PublishError

    try:
        return write_output(settings)
    except SparkOutputError as err:
        raise PublishError(str(err)) from None
