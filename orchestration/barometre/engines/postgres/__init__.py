"""The PostgreSQL target (BAROMETRE_TARGET=postgres): the same pipeline on a server.

Ingestion still reads and validates each edition in DuckDB (the working file is its
staging area), then copies the edition's raw rows to the server in one transaction
(`raw.py`); dbt builds the same project with dbt-postgres (profiles.yml, output
`postgres`); great-expectations validates on the server (`gx.py`); publishing swaps the
marts built in schema `marts_build` into `marts` in one transaction and grants
`bi_reader` read access to `marts` only (`publish.py`). docs/scaling.md.

psycopg is imported inside the functions: loading the code location with the default
target must not pay for it.
"""
