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
from dataclasses import dataclass, field, replace
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


@dataclass
class _Plan:
    """What a validation does: the suites to run now (their query and, for the whole-suite
    scope, their key), and the results already known (not built, or standing)."""

    results: dict[str, SuiteResult] = field(default_factory=dict)
    to_run: list[tuple[Suite, str]] = field(default_factory=list)
    keys: dict[str, str | None] = field(default_factory=dict)
    scope: Any = None  # the fact table's edition scope (validate.scope), or None
    profile: dict = field(default_factory=dict)


def _plan(session: Any, warehouse: Path, wanted: Sequence[str], docs_dir: Path | None) -> _Plan:
    """Which suites to run, reading the warehouse through `session` (GX's, or a plain
    read-only DuckDB connection).

    With `docs_dir` (changed inputs only, validate.scope): the fact table's suite
    validates only the editions whose build mark changed since they passed, and every
    other suite runs only when its key (its definition and the content of what it reads)
    is not that of results which stand."""
    from barometre.validate import scope
    from barometre.validate.suites import fct_answers_suite

    plan = _Plan()
    all_relations = {r for s in build_suites(WarehouseFacts(editions=())) for r in s.relations}
    facts, existing = read_facts(session, all_relations)
    plan.profile = read_profile(session, existing)
    for suite in build_suites(facts):
        if suite.name not in wanted:
            continue
        missing = [r for r in suite.relations if r not in existing]
        if missing:
            plan.results[suite.name] = _not_built(suite, missing)
            continue
        query = f"select * from {session.physical(suite.relation)}"
        if docs_dir is not None and suite.name == scope.SUITE:
            generic = fct_answers_suite(WarehouseFacts(editions=()))
            found = scope.current_keys(
                session,
                warehouse,
                [(e.id, e.expectation, dict(e.kwargs), e.severity) for e in generic.expectations],
                {e.edition_code: e.scale_size for e in facts.editions},
            )
            if found is not None:
                plan.scope = scope.plan(docs_dir, *found)
            if plan.scope is not None and not plan.scope.validate:
                plan.results[suite.name] = _kept(suite, plan.scope)
                continue
            if plan.scope is not None and not plan.scope.full:
                changed = set(plan.scope.validate)
                suite = fct_answers_suite(
                    WarehouseFacts(
                        editions=tuple(e for e in facts.editions if e.edition_code in changed),
                        columns=facts.columns,
                    )
                )
                editions = ", ".join("'" + e.replace("'", "''") + "'" for e in sorted(changed))
                query += f" where edition_code in ({editions})"
        elif docs_dir is not None:
            key = scope.suite_key(session, suite, warehouse)
            kept = scope.kept_result(docs_dir, suite.name, key)
            if kept is not None:
                plan.results[suite.name] = kept
                continue
            plan.keys[suite.name] = key
        plan.to_run.append((suite, query))
    return plan


def _validate(
    gx: Any, context: Any, session: Any, plan: _Plan
) -> tuple[list[tuple[Suite, Any]], dict]:
    """Run the planned suites in one checkpoint: (suite, validation definition) pairs and
    the GX result of each suite."""
    to_run: list[tuple[Suite, Any]] = []
    for suite, query in plan.to_run:
        asset = session.add_query_asset(suite.name, query)
        batch = asset.add_batch_definition_whole_table(f"{suite.name}_all_rows")
        gx_suite = context.suites.add_or_update(_gx_suite(gx, suite))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
        )
        to_run.append((suite, definition))
    if not to_run:
        return to_run, {}
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
    by_suite = {vr.suite_name: (identifier, vr) for identifier, vr in outcome.run_results.items()}
    return to_run, by_suite


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
    does not exist is reported `not_built`, never as passed. `changed_editions_only`
    (changed inputs only, validate.scope): the fact table's suite validates only the
    editions whose build mark changed since they last passed, every other suite runs
    only when what it reads changed since results that stand; the others keep their
    results (and when nothing is to run, Great Expectations is not even imported).
    """
    from barometre.common.settings import get_settings
    from barometre.validate import scope
    from barometre.validate.gx_duckdb import read_only_duckdb

    started = time.perf_counter()
    warehouse = Path(warehouse).resolve()
    docs_dir = Path(docs_dir).resolve()
    wanted = list(SUITE_NAMES) if suites is None else list(suites)
    unknown = [s for s in wanted if s not in SUITE_NAMES]
    if unknown:
        raise ValueError(f"unknown suite(s) {unknown}; known: {list(SUITE_NAMES)}")
    docs_dir.mkdir(parents=True, exist_ok=True)
    scoped_dir = docs_dir if changed_editions_only else None
    with docs_lock(docs_dir):
        plan = None
        if scoped_dir is not None and get_settings().target == "duckdb":
            # planned without GX: when every result stands, GX has nothing to do
            with read_only_duckdb(warehouse) as plain:
                plan = _plan(plain, warehouse, wanted, scoped_dir)
        if plan is not None and not plan.to_run and not _not_built_names(plan):
            if plan.scope is not None:  # no edition changed: the stored results stand
                scope.record(docs_dir, plan.scope, None, True)
            to_run: list[tuple[Suite, Any]] = []
            by_suite: dict = {}
            context = None
        else:
            to_run, by_suite, context, plan = _run_with_gx(
                warehouse, docs_dir, wanted, plan, scoped_dir
            )

    results = dict(plan.results)
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
                    "editions_validated": plan.scope.validate,
                    "editions_kept": tuple(sorted(plan.scope.kept)),
                }
                if plan.scope is not None and suite.name == scope.SUITE
                else {}
            ),
        )
    if scoped_dir is not None:  # the whole-suite results that may stand from now on
        with docs_lock(docs_dir):
            scope.record_results(
                docs_dir,
                warehouse,
                {
                    s.name: (plan.keys.get(s.name), results[s.name])
                    for s, _ in to_run
                    if s.name != scope.SUITE
                },
            )
    kept = results.get(scope.SUITE)
    if plan.scope is not None and kept is not None and not kept.evaluated:
        results[scope.SUITE] = replace(kept, docs_page=scope.kept_page(docs_dir, plan.scope))
    index = docs_dir / "index.html"
    return QualityReport(
        warehouse=warehouse,
        docs_index=index if index.is_file() else None,
        suites=tuple(results[name] for name in SUITE_NAMES if name in results),
        profile=plan.profile,
        seconds=round(time.perf_counter() - started, 2),
    )


def _not_built_names(plan: _Plan) -> list[str]:
    return [name for name, result in plan.results.items() if result.status == NOT_BUILT]


def _run_with_gx(
    warehouse: Path,
    docs_dir: Path,
    wanted: Sequence[str],
    plan: _Plan | None,
    scoped_dir: Path | None,
) -> tuple[list[tuple[Suite, Any]], dict, Any, _Plan]:
    """Run the suites of `plan` (planned here, in GX's session, when None) with Great
    Expectations, record the fact table's edition scope and rebuild the Data Docs site.
    Called under the docs folder's lock."""
    import great_expectations as gx

    from barometre.validate import scope
    from barometre.validate.gx_duckdb import ephemeral_context, warehouse_gx
    from barometre.validate.offline import make_offline

    scoped = scoped_dir is not None
    before = scope.run_folders(docs_dir)
    context = ephemeral_context(context_config(docs_dir))
    with warehouse_gx(warehouse, context) as session:
        if plan is None:
            plan = _plan(session, warehouse, wanted, scoped_dir)
        # the stored results of the suites about to run, or not built, are dropped (the
        # fact table's, when scoped, are pruned by scope.record instead)
        forget_previous_results(
            docs_dir,
            [
                name
                for name in [s.name for s, _ in plan.to_run] + _not_built_names(plan)
                if not (scoped and name == scope.SUITE)
            ],
        )
        to_run, by_suite = _validate(gx, context, session, plan)
    fct_ran = scope.SUITE in by_suite
    if fct_ran and plan.scope is None and scoped:  # no build mark: every edition, keep none
        scope.prune(docs_dir, scope.run_folders(docs_dir) - before)
    if plan.scope is not None and fct_ran:
        new = sorted(scope.run_folders(docs_dir) - before)
        scope.record(
            docs_dir, plan.scope, new[-1] if new else None, by_suite[scope.SUITE][1].success
        )
    elif plan.scope is not None:  # no edition changed: the stored results stand
        scope.record(docs_dir, plan.scope, None, True)
    # the warehouse is released here; the site is rebuilt from every stored result
    try:
        context.build_data_docs(site_names=[SITE_NAME])
        make_offline(docs_dir)
    except Exception:  # the results stand without their pages
        log.exception("Data Docs could not be built into %s", docs_dir)
    return to_run, by_suite, context, plan
