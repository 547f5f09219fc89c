"""The report as an asset downstream of the publication: a refreshed publication (a
`transform` run, hence the weekly schedule and the raw-folder sensor) rewrites the
report of every published edition under BAROMETRE_REPORT_DIR.

altair and vl_convert are imported only when the asset runs (barometre.report.build),
never when Dagster loads the code location."""

# No `from __future__ import annotations`: Dagster reads the context annotation at runtime.
from dagster import (
    AssetExecutionContext,
    AssetKey,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from barometre.settings import get_settings

PUBLISHED_WAREHOUSE = AssetKey("published_warehouse")


@asset(
    key=AssetKey("barometre_report"),
    deps=[PUBLISHED_WAREHOUSE],
    group_name="publishing",
    kinds={"html"},
    description="The report of every published edition, as self-contained static HTML "
    "(BAROMETRE_REPORT_DIR/<edition>/index.html), built only from the published copy.",
)
def barometre_report(context: AssetExecutionContext) -> MaterializeResult:
    from barometre.report.build import ReportError, build_report

    settings = get_settings()
    if settings.target != "duckdb":
        # The report reads the DuckDB publication (barometre.publish); on a server target
        # the marts are published on the server (docs/scaling.md) and no report is built.
        context.log.warning(
            f"target {settings.target}: the HTML report reads the DuckDB publication and "
            "is not built (docs/scaling.md)"
        )
        return MaterializeResult(metadata={"built": False, "target": settings.target})
    try:
        built = build_report(settings.published_dir, settings.report_dir, say=context.log.info)
    except ReportError as err:
        raise Failure(
            description=f"the report could not be built ({err}); the publication itself "
            "is unaffected",
            allow_retries=False,
        ) from None
    return MaterializeResult(
        metadata={
            "editions": [r.edition for r in built],
            "publication": built[0].publication if built else None,
            "index": MetadataValue.path(str(settings.report_dir / "index.html")),
            **{f"report_{r.edition}": MetadataValue.path(str(r.path)) for r in built},
        }
    )
