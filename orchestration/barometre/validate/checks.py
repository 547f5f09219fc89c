"""The warehouse expectations as Dagster asset checks, on the assets they guard.

One check per suite (`suites.TARGETS`), on the asset it guards, all evaluated by one
step (`great_expectations_suites`): one `run_warehouse_expectations` call validates the
selected suites with Great Expectations (read-only on the warehouse file), and each check
reports counts, a sample of the failing rows and the path of its Data Docs page.

Error-severity checks are blocking: in a run that includes them, assets downstream of the
checked asset are not materialised when the check fails. The drift check is a warning
(`AssetCheckSeverity.WARN`) and never blocks.

Cheap to import: Great Expectations is imported only when a check runs.
Add `QUALITY_CHECKS` to `Definitions(asset_checks=...)`; the checks need the `warehouse`
resource (`WarehouseResource`).
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from barometre.common.resources import WarehouseResource
from barometre.common.settings import PROJECT_ROOT
from barometre.validate.suites import ERROR, TARGET_BY_SUITE, TARGETS, Target

DOCS_DIR = PROJECT_ROOT / "build" / "data-docs"


def docs_dir() -> Path:
    """Where the Data Docs site is built (git-ignored build folder of the project)."""
    return DOCS_DIR


def _json(value: Any) -> Any:
    """JSON-safe copy (dates, decimals → text)."""
    return json.loads(json.dumps(value, default=str))


def check_result(report: Any, suite_name: str) -> AssetCheckResult:
    """The Dagster result of one suite of a `QualityReport`, on the check of its target."""
    from barometre.validate.results import NOT_BUILT, PASSED

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
            **_where(suite_name),
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
    if suite.editions_validated or suite.editions_kept:
        metadata["editions_validated"] = MetadataValue.json(list(suite.editions_validated))
        metadata["editions_kept"] = MetadataValue.json(list(suite.editions_kept))
    if suite.kept_run:
        metadata["kept_from_run"] = suite.kept_run
    passed = suite.status == PASSED
    kept = (
        f" Editions unchanged since they passed (results kept): {', '.join(suite.editions_kept)}."
        if suite.editions_kept
        else ""
    )
    if passed and not suite.evaluated and suite.editions_kept:
        description = "No edition changed since it passed: nothing validated." + kept
    elif passed:
        description = f"{suite.evaluated} expectations passed." + kept
    else:
        description = (
            f"{len(failures)} of {suite.evaluated} expectations failed: "
            + ", ".join(f.id for f in failures[:5])
            + ("…" if len(failures) > 5 else "")
            + kept
        )
    if suite.kept_run:
        description = (
            f"Unchanged since its validation of {suite.kept_run} (what it reads, its "
            f"expectations): those results stand, nothing validated now. {description}"
        )
    return AssetCheckResult(
        **_where(suite_name),
        passed=passed,
        severity=severity,
        description=description,
        metadata=metadata,
    )


def _spec(target: Target) -> AssetCheckSpec:
    return AssetCheckSpec(
        target.check_name,
        asset=AssetKey(list(target.asset_key)),
        description=target.check_description,
        blocking=target.severity == ERROR,
    )


@multi_asset_check(
    name="great_expectations_suites",
    specs=[_spec(t) for t in TARGETS],
    can_subset=True,
    description="The warehouse expectation suites, validated together: one Great "
    "Expectations context, one connection and one Data Docs build for all of them.",
)
def great_expectations_suites(
    context: AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[AssetCheckResult]:
    # One step for every suite (each its own check, on the asset it guards), instead of a
    # step per suite each paying for GX's context and a Data Docs build; a run that
    # selects some checks only validates their suites.
    from barometre.validate.gx_run import run_warehouse_expectations

    selected = context.selected_asset_check_keys
    targets = [t for t in TARGETS if _key(t) in selected]
    # only what changed (validate.scope): the fact table's suite on the editions whose
    # build mark changed, every other suite when what it reads changed
    report = run_warehouse_expectations(
        warehouse.warehouse_path(),
        docs_dir(),
        suites=[t.suite for t in targets],
        changed_editions_only=True,
    )
    context.log.info(report.summary())
    for target in targets:
        yield check_result(report, target.suite)


def _where(suite_name: str) -> dict[str, Any]:
    target = TARGET_BY_SUITE[suite_name]
    return {"asset_key": AssetKey(list(target.asset_key)), "check_name": target.check_name}


def _key(target: Target) -> AssetCheckKey:
    return AssetCheckKey(AssetKey(list(target.asset_key)), target.check_name)


QUALITY_CHECKS: list[AssetChecksDefinition] = [great_expectations_suites]
