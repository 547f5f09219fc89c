"""The warehouse expectations as Dagster asset checks, on the assets they guard.

One check per suite (`suites.TARGETS`): it validates that suite with Great Expectations
(`run_warehouse_expectations`, read-only on the warehouse file) and reports counts, a
sample of the failing rows and the path of the Data Docs page as metadata.

Error-severity checks are blocking: in a run that includes them, assets downstream of the
checked asset are not materialised when the check fails. The drift check is a warning
(`AssetCheckSeverity.WARN`) and never blocks.

Cheap to import: Great Expectations is imported only when a check runs.
Add `QUALITY_CHECKS` to `Definitions(asset_checks=...)`; the checks need the `warehouse`
resource (`WarehouseResource`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from barometre.quality.suites import ERROR, TARGETS, Target
from barometre.resources import WarehouseResource
from barometre.settings import PROJECT_ROOT

DOCS_DIR = PROJECT_ROOT / "build" / "data-docs"


def docs_dir() -> Path:
    """Where the Data Docs site is built (git-ignored build folder of the project)."""
    return DOCS_DIR


def _json(value: Any) -> Any:
    """JSON-safe copy (dates, decimals → text)."""
    return json.loads(json.dumps(value, default=str))


def check_result(report: Any, suite_name: str) -> AssetCheckResult:
    """The Dagster result of one suite of a `QualityReport`."""
    from barometre.quality.run import NOT_BUILT, PASSED

    suite = report.suite(suite_name)
    severity = AssetCheckSeverity.ERROR if suite.severity == ERROR else AssetCheckSeverity.WARN
    metadata: dict[str, Any] = {
        "suite": suite.name,
        "relation": suite.relation,
        "seconds": report.seconds,
    }
    if suite.status == NOT_BUILT:
        missing = ", ".join(suite.missing_relations)
        return AssetCheckResult(
            passed=False,
            severity=severity,
            description=f"Not built: {missing} does not exist in the warehouse; "
            "nothing was validated.",
            metadata={
                **metadata,
                "missing_relations": MetadataValue.json(list(suite.missing_relations)),
            },
        )
    failures = suite.failures
    metadata.update(
        {
            "expectations_evaluated": suite.evaluated,
            "expectations_failed": len(failures),
            "unexpected_total": sum(f.unexpected_count or 0 for f in failures),
        }
    )
    if failures:
        metadata["failures"] = MetadataValue.json(
            _json(
                [
                    {
                        "expectation": f.id,
                        "severity": f.severity,
                        "description": f.description,
                        "unexpected_count": f.unexpected_count,
                        "observed_value": f.observed_value,
                        "sample": list(f.unexpected_sample),
                        **({"error": f.exception} if f.exception else {}),
                    }
                    for f in failures
                ]
            )
        )
        first = failures[0]
        metadata["sample_failing_values"] = MetadataValue.json(
            _json({"expectation": first.id, "sample": list(first.unexpected_sample)})
        )
    if suite.docs_page:
        metadata["data_docs_page"] = MetadataValue.path(str(suite.docs_page))
        metadata["data_docs_url"] = MetadataValue.url(suite.docs_page.as_uri())
    if report.docs_index:
        metadata["data_docs_index"] = MetadataValue.path(str(report.docs_index))
    if report.profile and suite.name == "fct_answers":
        metadata["respondents_per_edition_and_type"] = MetadataValue.json(
            _json(report.profile.get("respondents_per_edition_and_type", {}))
        )
    passed = suite.status == PASSED
    if passed:
        description = f"{suite.evaluated} expectations passed."
    else:
        description = (
            f"{len(failures)} of {suite.evaluated} expectations failed: "
            + ", ".join(f.id for f in failures[:5])
            + ("…" if len(failures) > 5 else "")
        )
    return AssetCheckResult(
        passed=passed, severity=severity, description=description, metadata=metadata
    )


def _make_check(target: Target) -> AssetChecksDefinition:
    @asset_check(
        asset=AssetKey(list(target.asset_key)),
        name=target.check_name,
        description=target.check_description,
        blocking=target.severity == ERROR,
    )
    def _check(context, warehouse: WarehouseResource) -> AssetCheckResult:
        # `context` is an AssetCheckExecutionContext; Dagster rejects that annotation
        # when annotations are strings (from __future__ import annotations).
        from barometre.quality.run import run_warehouse_expectations

        report = run_warehouse_expectations(
            warehouse.warehouse_path(), docs_dir(), suites=[target.suite]
        )
        context.log.info(report.summary())
        return check_result(report, target.suite)

    return _check


QUALITY_CHECKS: list[AssetChecksDefinition] = [_make_check(t) for t in TARGETS]
