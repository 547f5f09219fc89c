"""Run the warehouse expectation suites with Great Expectations, in DuckDB, and build Data Docs.

`run_warehouse_expectations(warehouse, docs_dir)` validates every suite of `suites.py`
(or the ones named) in one GX checkpoint, reads the results into a `QualityReport`
(`results.py`) and builds the Data Docs site into `docs_dir` (`data_docs.py`), rewritten
to render offline.

Every computation runs in DuckDB (GX SQL datasource, query assets); only results come back:
counts, observed values and at most `SAMPLE_SIZE` failing rows per expectation.

great_expectations is imported inside the functions (it takes seconds to import).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from barometre.validate.data_docs import (
    SITE_NAME,
    context_config,
    docs_lock,
    docs_page,
    forget_previous_results,
)
from barometre.validate.facts import WarehouseFacts, read_facts, read_profile
from barometre.validate.results import (
    FAILED,
    NOT_BUILT,
    PASSED,
    SAMPLE_SIZE,
    ExpectationResult,
    QualityReport,
    SuiteResult,
)
from barometre.validate.suites import ERROR, SUITE_NAMES, WARNING, Suite, build_suites

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "barometre_warehouse"

# our severities as GX 1.x failure severities (shown in Data Docs)
GX_SEVERITY = {ERROR: "critical", WARNING: "warning"}


def _gx_suite(gx: Any, suite: Suite) -> Any:
    """The GX suite of `suite`, its expectations given to the constructor: added one by
    one, each would rewrite the whole suite in the store when a suite of that name is
    stored already (every run after the first), 0.1 s each; the suite is stored once,
    by `context.suites.add_or_update`."""
    from great_expectations.expectations.row_conditions import Column

    expectations = []
    for spec in suite.expectations:
        expectation_class = getattr(gx.expectations, spec.expectation)
        kwargs = dict(spec.kwargs)
        if spec.where:
            column, value = spec.where
            kwargs["row_condition"] = Column(column) == value
        expectations.append(
            expectation_class(
                **kwargs,
                description=spec.description,
                severity=GX_SEVERITY[spec.severity],
                meta={"id": spec.id, "severity": spec.severity},
            )
        )
    return gx.ExpectationSuite(
        name=suite.name,
        expectations=expectations,
        meta={"relation": suite.relation, "severity": suite.severity, "notes": suite.description},
    )


def _exception_message(exception_info: Any) -> str | None:
    if not exception_info:
        return None
    if isinstance(exception_info, dict) and "raised_exception" in exception_info:
        infos = [exception_info]
    elif isinstance(exception_info, dict):
        infos = list(exception_info.values())
    else:
        return None
    messages = [
        str(i.get("exception_message"))
        for i in infos
        if isinstance(i, dict) and i.get("raised_exception")
    ]
    return "; ".join(dict.fromkeys(messages))[:500] if messages else None


def _expectation_result(suite: Suite, spec_by_id: dict, evr: Any) -> ExpectationResult:
    config = evr.expectation_config
    expectation_id = (config.meta or {}).get("id", config.type)
    spec = spec_by_id.get(expectation_id)
    result = dict(evr.result or {})
    exception = _exception_message(evr.exception_info)
    observed = result.get("observed_value")
    if config.type == "unexpected_rows_expectation":
        unexpected_count = observed if isinstance(observed, int) else None
        rows = (result.get("details") or {}).get("unexpected_rows") or []
        sample = tuple(dict(r) for r in rows[:SAMPLE_SIZE])
    elif "unexpected_count" in result:
        unexpected_count = result.get("unexpected_count")
        sample = tuple(result.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]
    else:
        unexpected_count = None if evr.success else (0 if exception else None)
        sample = ()
    return ExpectationResult(
        suite=suite.name,
        id=expectation_id,
        expectation_type=config.type,
        description=spec.description if spec else (config.description or ""),
        severity=spec.severity if spec else suite.severity,
        status=PASSED if evr.success else FAILED,
        observed_value=observed,
        unexpected_count=unexpected_count,
        unexpected_sample=sample,
        exception=exception,
    )


def _not_built(suite: Suite, missing: Sequence[str]) -> SuiteResult:
    why = f"not built: {', '.join(missing)} does not exist in the warehouse"
    return SuiteResult(
        name=suite.name,
        relation=suite.relation,
        asset_key=suite.asset_key,
        severity=suite.severity,
        status=NOT_BUILT,
        missing_relations=tuple(missing),
        expectations=tuple(
            ExpectationResult(
                suite=suite.name,
                id=e.id,
                expectation_type=e.expectation,
                description=e.description,
                severity=e.severity,
                status=NOT_BUILT,
                exception=why,
            )
            for e in suite.expectations
        ),
    )


def _validate(
    gx: Any, context: Any, warehouse: Path, wanted: Sequence[str], docs_dir: Path | None = None
) -> tuple[dict[str, SuiteResult], list[tuple[Suite, Any]], dict, dict, Any]:
    """Run the wanted suites in one checkpoint; suites not built are reported, not run.

    With `docs_dir` (changed editions only), the fact table's suite validates only the
    editions whose build mark changed since they passed (quality.edition_scope); the
    last item returned is then that scope (else None)."""
    from barometre.validate import edition_scope
    from barometre.validate.gx_duckdb import warehouse_gx
    from barometre.validate.suites import fct_answers_suite

    results: dict[str, SuiteResult] = {}
    to_run: list[tuple[Suite, Any]] = []
    by_suite: dict[str, Any] = {}
    scope = None
    with warehouse_gx(warehouse, context) as session:
        all_relations = {r for s in build_suites(WarehouseFacts(editions=())) for r in s.relations}
        facts, existing = read_facts(session, all_relations)
        profile = read_profile(session, existing)
        for suite in build_suites(facts):
            if suite.name not in wanted:
                continue
            missing = [r for r in suite.relations if r not in existing]
            if missing:
                results[suite.name] = _not_built(suite, missing)
                continue
            query = f"select * from {session.physical(suite.relation)}"
            if suite.name == edition_scope.SUITE and docs_dir is not None:
                generic = fct_answers_suite(WarehouseFacts(editions=()))
                found = edition_scope.current_keys(
                    session,
                    warehouse,
                    [
                        (e.id, e.expectation, dict(e.kwargs), e.severity)
                        for e in generic.expectations
                    ],
                    {e.edition_code: e.scale_size for e in facts.editions},
                )
                if found is not None:
                    scope = edition_scope.plan(docs_dir, *found)
                if scope is not None and not scope.validate:
                    results[suite.name] = _kept(suite, scope)
                    continue
                if scope is not None and not scope.full:
                    changed = set(scope.validate)
                    suite = fct_answers_suite(
                        WarehouseFacts(
                            editions=tuple(e for e in facts.editions if e.edition_code in changed),
                            columns=facts.columns,
                        )
                    )
                    editions = ", ".join("'" + e.replace("'", "''") + "'" for e in sorted(changed))
                    query += f" where edition_code in ({editions})"
            asset = session.add_query_asset(suite.name, query)
            batch = asset.add_batch_definition_whole_table(f"{suite.name}_all_rows")
            gx_suite = context.suites.add_or_update(_gx_suite(gx, suite))
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
            )
            to_run.append((suite, definition))

        if to_run:
            checkpoint = context.checkpoints.add(
                gx.Checkpoint(
                    name=CHECKPOINT_NAME,
                    validation_definitions=[d for _, d in to_run],
                    actions=[],
                    result_format={
                        "result_format": "COMPLETE",
                        "partial_unexpected_count": SAMPLE_SIZE,
                        "include_unexpected_rows": False,
                        "return_unexpected_index_query": False,
                    },
                )
            )
            outcome = session.run(checkpoint, run_id=gx.RunIdentifier(run_name="barometre"))
            by_suite = {
                vr.suite_name: (identifier, vr) for identifier, vr in outcome.run_results.items()
            }
    return results, to_run, by_suite, profile, scope


def _kept(suite: Suite, scope: Any) -> SuiteResult:
    """The fact table's suite when no edition changed since it passed: nothing runs, the
    stored results stand (their Data Docs pages are kept)."""
    return SuiteResult(
        name=suite.name,
        relation=suite.relation,
        asset_key=suite.asset_key,
        severity=suite.severity,
        status=PASSED,
        editions_kept=tuple(sorted(scope.kept)),
    )


def run_warehouse_expectations(
    warehouse: Path,
    docs_dir: Path,
    suites: Sequence[str] | None = None,
    *,
    changed_editions_only: bool = False,
) -> QualityReport:
    """Validate the warehouse (read-only) and build offline Data Docs into `docs_dir`.

    `suites`: names from `suites.SUITE_NAMES` (default: all). A suite whose relation
    does not exist is reported `not_built`, never as passed. `changed_editions_only`:
    the fact table's suite validates only the editions whose build mark changed since
    they last passed (quality.edition_scope); the others keep their results.
    """
    import great_expectations as gx

    from barometre.validate import edition_scope
    from barometre.validate.gx_duckdb import ephemeral_context
    from barometre.validate.offline import make_offline

    started = time.perf_counter()
    warehouse = Path(warehouse).resolve()
    docs_dir = Path(docs_dir).resolve()
    wanted = list(SUITE_NAMES) if suites is None else list(suites)
    unknown = [s for s in wanted if s not in SUITE_NAMES]
    if unknown:
        raise ValueError(f"unknown suite(s) {unknown}; known: {list(SUITE_NAMES)}")
    docs_dir.mkdir(parents=True, exist_ok=True)
    with docs_lock(docs_dir):
        # the fact table's stored results are pruned by edition_scope.record instead
        scoped = changed_editions_only and edition_scope.SUITE in wanted
        forget_previous_results(
            docs_dir, [w for w in wanted if not (scoped and w == edition_scope.SUITE)]
        )
        before = edition_scope.run_folders(docs_dir)
        context = ephemeral_context(context_config(docs_dir))
        results, to_run, by_suite, profile, scope = _validate(
            gx, context, warehouse, wanted, docs_dir if scoped else None
        )
        if scoped and scope is None:  # no build mark: every edition validated, keep none
            edition_scope.prune(docs_dir, edition_scope.run_folders(docs_dir) - before)
        if scope is not None and edition_scope.SUITE in by_suite:
            new = sorted(edition_scope.run_folders(docs_dir) - before)
            edition_scope.record(
                docs_dir, scope, new[-1] if new else None, by_suite[edition_scope.SUITE][1].success
            )
        elif scope is not None:  # nothing changed: the stored results stand
            edition_scope.record(docs_dir, scope, None, True)
        # the warehouse is released here; the site is rebuilt from every stored result
        try:
            context.build_data_docs(site_names=[SITE_NAME])
            make_offline(docs_dir)
        except Exception:  # the results stand without their pages
            log.exception("Data Docs could not be built into %s", docs_dir)

    for suite, _definition in to_run:
        identifier, vr = by_suite[suite.name]
        spec_by_id = {e.id: e for e in suite.expectations}
        expectations = tuple(_expectation_result(suite, spec_by_id, evr) for evr in vr.results)
        results[suite.name] = SuiteResult(
            name=suite.name,
            relation=suite.relation,
            asset_key=suite.asset_key,
            severity=suite.severity,
            status=PASSED if all(e.status == PASSED for e in expectations) else FAILED,
            expectations=expectations,
            docs_page=docs_page(context, identifier),
            evaluated=len(expectations),
            **(
                {
                    "editions_validated": scope.validate,
                    "editions_kept": tuple(sorted(scope.kept)),
                }
                if scope is not None and suite.name == edition_scope.SUITE
                else {}
            ),
        )
    kept = results.get(edition_scope.SUITE)
    if scope is not None and kept is not None and not kept.evaluated:
        results[edition_scope.SUITE] = replace(
            kept, docs_page=edition_scope.kept_page(docs_dir, scope)
        )
    index = docs_dir / "index.html"
    return QualityReport(
        warehouse=warehouse,
        docs_index=index if index.is_file() else None,
        suites=tuple(results[name] for name in SUITE_NAMES if name in results),
        profile=profile,
        seconds=round(time.perf_counter() - started, 2),
    )
