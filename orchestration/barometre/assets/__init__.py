"""Dagster assets: ingestion (per edition) and the dbt project."""
