"""Publishing as a Dagster asset: `published_warehouse`, downstream of what it publishes.

It depends on the marts and the reference lookups (not restricted/*), so in the
`transform` job it runs only when the dbt steps succeeded (every dbt test of severity
error passed) and every blocking asset check upstream of those passed; otherwise it is
skipped and the previous publication stays in place.
"""

from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from barometre.common.resources import WarehouseResource
from barometre.common.settings import Settings, get_settings
from barometre.common.writer_lock import dagster_writer
from barometre.publish.publication import (
    MARTS_SCHEMA,
    PUBLISHED_REFERENCE_TABLES,
    REFERENCE_SCHEMA,
    PublishError,
    publish,
)
from barometre.transform.dbt_assets import DBT_ASSET_KEYS

PUBLISHED_CONTENT = sorted(
    (
        k
        for k in DBT_ASSET_KEYS
        if k.path[0] == MARTS_SCHEMA
        or (k.path[0] == REFERENCE_SCHEMA and k.path[-1] in PUBLISHED_REFERENCE_TABLES)
    ),
    key=lambda k: k.to_user_string(),
)
"""The dbt assets the published file holds: the marts and the published reference seeds."""

PUBLISHED_DEPS = PUBLISHED_CONTENT
"""What publishing reads, and only that: the lineage in the Dagster UI shows where the
published file comes from (never restricted/*). In a run it still waits for the whole
dbt step of the marts (one op builds marts and restricted), so a failed dbt test of
severity error, or a failed blocking check on any of its upstream assets, skips it."""


@asset(
    key=AssetKey("published_warehouse"),
    deps=PUBLISHED_DEPS,
    group_name="publishing",
    kinds={"duckdb", "parquet"},
    description="Read-only copy of the marts (and reference lookups) for BI tools: "
    "BAROMETRE_PUBLISHED_DIR/barometre.duckdb (DuckDB 1.4+ clients) and Parquet files, "
    "replaced atomically. Built only when every blocking dbt test passed.",
)
def published_warehouse(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    settings = get_settings()
    if settings.target == "postgres":
        return _publish_on_server(context, warehouse, settings.pg_dsn)
    published_dir = settings.published_dir
    try:
        with dagster_writer(context, warehouse.warehouse_path()):
            version = publish(
                _source(settings, warehouse),
                published_dir,
                run_id=context.run.run_id,
                say=context.log.info,
            )
    except PublishError as err:
        raise Failure(description=f"publishing failed: {err}", allow_retries=False) from None
    return MaterializeResult(
        metadata={
            "version": version.version,
            "published_at": version.published_at,
            "path": MetadataValue.path(str(version.path)),
            "parquet_dir": MetadataValue.path(str(version.directory / "parquet")),
            "storage_version": version.storage_version,
            "marts": len(version.marts),
            "row_counts": MetadataValue.json(version.tables),
        }
    )


def _source(settings: Settings, warehouse: WarehouseResource) -> Path:
    """What is published from: the working file, or on the spark target the Spark
    build's tables as a DuckDB file laid out like it (barometre.engines.spark.output)."""
    if settings.target != "spark":
        return warehouse.warehouse_path()
    from barometre.engines.spark.pipeline import publication_source

    return publication_source(settings)


def _publish_on_server(
    context: AssetExecutionContext, warehouse: WarehouseResource, dsn: str
) -> MaterializeResult:
    """PostgreSQL target: swap the marts built in marts_build into marts, in one
    transaction, and grant bi_reader read access (barometre.engines.postgres.publish)."""
    from barometre.engines.postgres.connection import ServerError
    from barometre.engines.postgres.publish import ServerPublishError, publish_marts

    try:
        with dagster_writer(context, warehouse.warehouse_path()):
            published = publish_marts(dsn, run_id=context.run.run_id)
    except (ServerError, ServerPublishError) as err:
        raise Failure(description=f"publishing failed: {err}", allow_retries=False) from None
    context.log.info(f"marts published on {published.server}, schema marts")
    return MaterializeResult(
        metadata={
            "server": published.server,
            "schema": "marts",
            "published_at": published.published_at,
            "marts": len(published.tables),
            "row_counts": MetadataValue.json(published.tables),
        }
    )
