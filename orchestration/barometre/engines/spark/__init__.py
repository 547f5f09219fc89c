"""The same dbt project on a local Spark session (docs/scaling.md, "Spark").

Two ways in, one set of settings (session): `barometre spark-build`, a batch step that
starts the session and runs dbt in its own process (build), and the Dagster pipeline
with BAROMETRE_TARGET=spark, whose dbt step runs dbt as a child process (pipeline). The
raw tables leave the DuckDB warehouse as Parquet (raw_parquet), dbt registers them as
the source `raw` and builds every model and test; the marts land as Parquet files that
DuckDB reads back for the checks and publishing (output). pyspark and dbt-spark are the
optional extra `spark` (`pip install -c constraints.txt -e ".[spark]"`, done by
`make test-spark`).
"""
