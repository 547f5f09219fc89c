"""The engines other than the embedded DuckDB file, one package each: `postgres` (the
BAROMETRE_TARGET=postgres warehouse) and `spark` (the dbt project on a Spark session).
Stage code calls them only when that target is chosen, importing them lazily."""
