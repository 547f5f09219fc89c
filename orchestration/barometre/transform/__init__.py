"""Stage 3, transform: the dbt project (dbt_project/, models/, seeds/) as Dagster assets,
dbt tests as asset checks, and the `transform` job that builds and publishes."""
