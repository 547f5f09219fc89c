"""Run the warehouse expectation suites with Great Expectations, in DuckDB, and build Data Docs.

`run_warehouse_expectations(warehouse, docs_dir)` validates every suite of `suites.py`
(or the ones named) in one GX checkpoint, reads the results into a `QualityReport` and
builds the Data Docs site into `docs_dir`, rewritten to render offline.

Every computation runs in DuckDB (GX SQL datasource, query assets); only results come back:
counts, observed values and at most `SAMPLE_SIZE` failing rows per expectation.

Data Docs accumulate: results are stored under `docs_dir/.gx/` and each run replaces the
previous result of the suites it ran, so the index shows the latest result of every
suite even when the Dagster checks run them one by one.

great_expectations is imported inside the functions (it takes seconds to import).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from barometre.quality.suites import (
    ERROR,
    SUITE_NAMES,
    WARNING,
    EditionScale,
    Suite,
    WarehouseFacts,
    build_suites,
)

log = logging.getLogger(__name__)

SAMPLE_SIZE = 5
SITE_NAME = "barometre"
STORE_DIR = ".gx"  # inside docs_dir: results and suites the index is built from
CHECKPOINT_NAME = "barometre_warehouse"

# our severities as GX 1.x failure severities (shown in Data Docs)
GX_SEVERITY = {ERROR: "critical", WARNING: "warning"}

PASSED = "passed"
FAILED = "failed"
NOT_BUILT = "not_built"


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation's outcome."""

    suite: str
    id: str
    expectation_type: str
    description: str
    severity: str
    status: str  # passed | failed | not_built
    observed_value: Any = None
    unexpected_count: int | None = None
    unexpected_sample: tuple = ()  # at most SAMPLE_SIZE failing rows or values
    exception: str | None = None

    @property
    def success(self) -> bool | None:
        return None if self.status == NOT_BUILT else self.status == PASSED


@dataclass(frozen=True)
class SuiteResult:
    """One suite (one relation, one validation)."""

    name: str
    relation: str
    asset_key: tuple[str, ...]
    severity: str
    status: str  # passed | failed | not_built
    expectations: tuple[ExpectationResult, ...] = ()
    missing_relations: tuple[str, ...] = ()
    docs_page: Path | None = None
    evaluated: int = 0

    @property
    def failures(self) -> list[ExpectationResult]:
        return [e for e in self.expectations if e.status == FAILED]

    def result(self, expectation_id: str) -> ExpectationResult:
        for e in self.expectations:
            if e.id == expectation_id:
                return e
        raise KeyError(f"{self.name}: no expectation {expectation_id!r}")


@dataclass(frozen=True)
class QualityReport:
    """What `run_warehouse_expectations` found."""

    warehouse: Path
    docs_index: Path | None
    suites: tuple[SuiteResult, ...]
    profile: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def suite(self, name: str) -> SuiteResult:
        for s in self.suites:
            if s.name == name:
                return s
        raise KeyError(f"no suite {name!r} in this report")

    @property
    def errors(self) -> list[ExpectationResult]:
        """Failed expectations of error severity: the numbers are wrong."""
        return [e for s in self.suites for e in s.failures if e.severity == ERROR]

    @property
    def warnings(self) -> list[ExpectationResult]:
        """Failed expectations of warning severity: to look at, not blocking."""
        return [e for s in self.suites for e in s.failures if e.severity == WARNING]

    @property
    def not_built(self) -> list[SuiteResult]:
        """Suites whose relation (or a relation they read) does not exist in the warehouse."""
        return [s for s in self.suites if s.status == NOT_BUILT]

    @property
    def ok(self) -> bool:
        """No error, and every suite ran (a suite not built never counts as passed)."""
        return not self.errors and not self.not_built

    def summary(self) -> str:
        lines = []
        for s in self.suites:
            if s.status == NOT_BUILT:
                lines.append(f"{s.name:36} NOT BUILT ({', '.join(s.missing_relations)} missing)")
                continue
            failed = len(s.failures)
            lines.append(
                f"{s.name:36} {s.status.upper():9} {s.evaluated - failed}/{s.evaluated}"
                f" expectations passed ({s.severity})"
            )
            for e in s.failures:
                lines.append(
                    f"    {e.severity}: {e.id}: {e.unexpected_count} unexpected"
                    + (f" (e.g. {list(e.unexpected_sample)[:3]})" if e.unexpected_sample else "")
                    + (f" [{e.exception}]" if e.exception else "")
                )
        if self.docs_index:
            lines.append(f"Data Docs: {self.docs_index}")
        return "\n".join(lines)


# --- reading the warehouse --------------------------------------------------------------


def read_facts(session: Any, relations: Iterable[str]) -> tuple[WarehouseFacts, set[str]]:
    """Editions (reference.editions) and columns of `relations`; plus the relations that exist."""
    existing = session.relations()
    editions: tuple[EditionScale, ...] = ()
    if "reference.editions" in existing:
        editions = tuple(
            EditionScale(str(r["edition_code"]), int(r["scale_size"]))
            for r in session.query(
                "select edition_code, scale_size from reference.editions "
                "order by edition_year, edition_number, edition_code"
            )
        )
    wanted = sorted(set(relations) & existing)
    columns: dict[str, tuple[str, ...]] = {}
    if wanted:
        logical = {session.physical(r): r for r in wanted}
        in_list = ", ".join("'" + r.replace("'", "''") + "'" for r in logical)
        for r in session.query(
            "select table_schema || '.' || table_name as relation, column_name "
            "from information_schema.columns "
            f"where table_schema || '.' || table_name in ({in_list}) "
            "order by relation, ordinal_position"
        ):
            relation = logical[r["relation"]]
            columns.setdefault(relation, ())
            columns[relation] += (r["column_name"],)
    return WarehouseFacts(editions=editions, columns=columns), existing


def read_profile(session: Any, existing: set[str]) -> dict[str, Any]:
    """Respondents per edition and type (reported with the results, not an expectation)."""
    if not {"core.fct_answers", "raw.responses"} <= existing:
        return {}
    rows = session.query(
        """select responses.edition_code, responses.type_code,
                  count(distinct answers.respondent_id) as n_respondents
           from (select distinct edition_code, respondent_id from core.fct_answers) as answers
           join raw.responses as responses
             on responses.edition_code = answers.edition_code
            and responses.respondent_id = answers.respondent_id
           group by responses.edition_code, responses.type_code
           order by responses.edition_code, responses.type_code"""
    )
    per_edition: dict[str, dict[str, int]] = {}
    for r in rows:
        per_edition.setdefault(str(r["edition_code"]), {})[str(r["type_code"])] = int(
            r["n_respondents"]
        )
    return {"respondents_per_edition_and_type": per_edition}


# --- GX context and results -------------------------------------------------------------


def _context_config(docs_dir: Path) -> Any:
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
    )

    defaults = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    stores = dict(defaults.stores)
    store_root = docs_dir / STORE_DIR
    for store_name, folder in (
        (defaults.expectations_store_name, "expectations"),
        (defaults.validation_results_store_name, "validations"),
    ):
        stores[store_name] = {
            **stores[store_name],
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(store_root / folder),
            },
        }
    return DataContextConfig(
        store_backend_defaults=defaults,
        stores=stores,
        data_docs_sites={
            SITE_NAME: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {
                    "class_name": "DefaultSiteIndexBuilder",
                    "show_cta_footer": False,
                },
            }
        },
    )


def _forget_previous_results(docs_dir: Path, suite_names: Iterable[str]) -> None:
    """Drop the stored results and pages of the suites about to run (keep the others)."""
    for name in suite_names:
        for folder in (
            docs_dir / STORE_DIR / "validations" / name,
            docs_dir / "validations" / name,
        ):
            shutil.rmtree(folder, ignore_errors=True)


def _gx_suite(gx: Any, suite: Suite) -> Any:
    from great_expectations.expectations.row_conditions import Column

    gx_suite = gx.ExpectationSuite(
        name=suite.name,
        meta={"relation": suite.relation, "severity": suite.severity, "notes": suite.description},
    )
    for spec in suite.expectations:
        expectation_class = getattr(gx.expectations, spec.expectation)
        kwargs = dict(spec.kwargs)
        if spec.where:
            column, value = spec.where
            kwargs["row_condition"] = Column(column) == value
        gx_suite.add_expectation(
            expectation_class(
                **kwargs,
                description=spec.description,
                severity=GX_SEVERITY[spec.severity],
                meta={"id": spec.id, "severity": spec.severity},
            )
        )
    return gx_suite


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


def _docs_page(context: Any, identifier: Any) -> Path | None:
    try:
        urls = context.get_docs_sites_urls(resource_identifier=identifier, site_names=[SITE_NAME])
    except Exception:
        return None
    for site in urls:
        url = site.get("site_url") or ""
        if url.startswith("file://"):
            return Path(url.removeprefix("file://"))
    return None


def _validate(
    gx: Any, context: Any, warehouse: Path, wanted: Sequence[str]
) -> tuple[dict[str, SuiteResult], list[tuple[Suite, Any]], dict, dict]:
    """Run the wanted suites in one checkpoint; suites not built are reported, not run."""
    from barometre.quality.gx_duckdb import warehouse_gx

    results: dict[str, SuiteResult] = {}
    to_run: list[tuple[Suite, Any]] = []
    by_suite: dict[str, Any] = {}
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
            asset = session.add_query_asset(
                suite.name, f"select * from {session.physical(suite.relation)}"
            )
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
    return results, to_run, by_suite, profile


@contextlib.contextmanager
def _docs_lock(docs_dir: Path) -> Iterator[None]:
    """One run at a time per docs folder (Dagster may run checks in parallel processes)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    lock_path = docs_dir / STORE_DIR / "lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_warehouse_expectations(
    warehouse: Path, docs_dir: Path, suites: Sequence[str] | None = None
) -> QualityReport:
    """Validate the warehouse (read-only) and build offline Data Docs into `docs_dir`.

    `suites`: names from `suites.SUITE_NAMES` (default: all). A suite whose relation
    does not exist is reported `not_built`, never as passed.
    """
    import great_expectations as gx

    from barometre.quality.gx_duckdb import ephemeral_context
    from barometre.quality.offline import make_offline

    started = time.perf_counter()
    warehouse = Path(warehouse).resolve()
    docs_dir = Path(docs_dir).resolve()
    wanted = list(SUITE_NAMES) if suites is None else list(suites)
    unknown = [s for s in wanted if s not in SUITE_NAMES]
    if unknown:
        raise ValueError(f"unknown suite(s) {unknown}; known: {list(SUITE_NAMES)}")
    docs_dir.mkdir(parents=True, exist_ok=True)
    with _docs_lock(docs_dir):
        _forget_previous_results(docs_dir, wanted)
        context = ephemeral_context(_context_config(docs_dir))
        results, to_run, by_suite, profile = _validate(gx, context, warehouse, wanted)
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
            docs_page=_docs_page(context, identifier),
            evaluated=len(expectations),
        )
    index = docs_dir / "index.html"
    return QualityReport(
        warehouse=warehouse,
        docs_index=index if index.is_file() else None,
        suites=tuple(results[name] for name in SUITE_NAMES if name in results),
        profile=profile,
        seconds=round(time.perf_counter() - started, 2),
    )
