"""Stage 4's Dagster definitions: the `published_warehouse` asset (it runs in the
`transform` job, after the dbt build: transform/runs.py)."""

from dagster import Definitions

from barometre.publish.asset import published_warehouse

defs = Definitions(assets=[published_warehouse])
