"""Warehouse expectations: Great Expectations suites run in DuckDB, offline Data Docs and
Dagster asset checks. See docs/data-quality.md."""
