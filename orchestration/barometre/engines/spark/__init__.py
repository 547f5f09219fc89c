"""The same dbt project on a local Spark session (docs/scaling.md, "Spark").

The raw tables leave the DuckDB warehouse as Parquet (raw_parquet), a local Spark
session registers them as the dbt source `raw` and `dbt build --target spark` builds
every model and test there (build); the marts land as Parquet files that DuckDB, pandas
or any BI engine reads. pyspark and dbt-spark are the optional extra `spark`
(`pip install -c constraints.txt -e ".[spark]"`, done by `make test-spark`).
"""
