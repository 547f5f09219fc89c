"""What a validation found: one result per expectation, per suite, and the report.

Plain data (no Great Expectations import): `checks.py` turns a `QualityReport` into
Dagster check results, and the tests build reports by hand.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from barometre.validate.suites import ERROR, WARNING

SAMPLE_SIZE = 5  # failing rows or values kept per expectation

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
    # the fact table's suite on changed editions only (validate.scope): the editions
    # validated now, and those whose earlier passing results stand (unchanged since)
    editions_validated: tuple[str, ...] = ()
    editions_kept: tuple[str, ...] = ()
    # another suite whose inputs did not change since a validation whose results stand
    # (validate.scope): nothing ran now, these are that validation's results (GX run folder)
    kept_run: str | None = None

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


def result_to_json(result: SuiteResult) -> dict[str, Any]:
    """A suite's result as JSON data (values JSON cannot hold become text)."""
    import json

    data: dict[str, Any] = json.loads(json.dumps(asdict(result), default=str))
    return data


def result_from_json(data: dict[str, Any]) -> SuiteResult:
    """The `SuiteResult` that `result_to_json` wrote."""
    expectations = tuple(
        ExpectationResult(**{**e, "unexpected_sample": tuple(e.get("unexpected_sample") or ())})
        for e in data.get("expectations") or ()
    )
    tuples = ("asset_key", "missing_relations", "editions_validated", "editions_kept")
    return SuiteResult(
        **{
            **data,
            **{k: tuple(data.get(k) or ()) for k in tuples},
            "expectations": expectations,
            "docs_page": Path(data["docs_page"]) if data.get("docs_page") else None,
        }
    )
