"""The report as an asset downstream of the publication: a refreshed publication (a
`transform` run, hence the weekly schedule and the raw-folder sensor) rewrites the
report of every published edition under BAROMETRE_REPORT_DIR.

The report's modules (barometre.serve.report.build and what it uses) are imported only
when the asset runs, never when Dagster loads the code location."""

# No `from __future__ import annotations`: Dagster reads the context annotation at runtime.
from dagster import (
    AssetExecutionContext,
    AssetKey,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from barometre.common.settings import get_settings

PUBLISHED_WAREHOUSE = AssetKey("published_warehouse")


@asset(
    key=AssetKey("barometre_report"),
    deps=[PUBLISHED_WAREHOUSE],
    group_name="publishing",
    kinds={"html"},
    description="The report of every published edition, as self-contained static HTML "
    "(BAROMETRE_REPORT_DIR/<edition>/index.html), built only from the published copy; "
    "an edition's page is rendered again only when its figures changed.",
)
def barometre_report(context: AssetExecutionContext) -> MaterializeResult:
    from barometre.serve.report.build import ReportError, build_report, server_publication

    settings = get_settings()
    try:
        # on PostgreSQL, what the server publishes (schema marts), not the DuckDB file
        built = build_report(
            settings.published_dir,
            settings.report_dir,
            say=context.log.info,
            connection=server_publication(settings),
        )
    except ReportError as err:
        raise Failure(
            description=f"the report could not be built ({err}); the publication itself "
            "is unaffected",
            allow_retries=False,
        ) from None
    return MaterializeResult(
        metadata={
            "editions": [r.edition for r in built],
            # an edition whose figures did not change keeps its page (report.build)
            "rendered": [r.edition for r in built if r.rendered],
            "publication": built[0].publication if built else None,
            "index": MetadataValue.path(str(settings.report_dir / "index.html")),
            **{f"report_{r.edition}": MetadataValue.path(str(r.path)) for r in built},
        }
    )
