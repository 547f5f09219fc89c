"""Stage 2, validate: great-expectations suites on the warehouse (run in DuckDB, offline
Data Docs, Dagster asset checks), the seeds' dbt tests before a load, and dbt test
failures told in the project's form. See docs/data-quality.md.

The row contract at ingestion (pandera) lives in ingest/, with the load it guards."""
