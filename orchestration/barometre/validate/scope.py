"""What a validation runs now, and which earlier results stand (issue 10, P1 and P5).

A suite's result depends only on what it reads: its expectations, the rows of its
relation and of the relations its queries join (`Suite.relations`), and the warehouse.
When none of that changed since a validation whose results are kept, validating again
would find the same: the earlier results stand, with their Data Docs pages, and the
Dagster check reports them as kept. Two granularities, one rule:

- **The fact table, per edition.** `core.fct_answers` is rebuilt edition by edition
  (dbt incremental, docs/performance.md): each row carries its edition's build mark, a
  digest of what the edition's rows are computed from. Every expectation of the
  `fct_answers` suite is per edition (levels on the edition's scale, respondents per
  edition and group, response rate per edition and question, questionnaire coverage,
  cells per respondent), so an edition validated with a mark still in the table need not
  be validated again. Remembered in `<docs_dir>/.gx/fct_answers_editions.json`: a digest
  of what the whole suite depends on besides the editions' rows (its expectations, the
  warehouse's path, `reference.collectivity_types`), and per edition the key it was
  validated with (build mark, scale size, its `reference.questions` rows) and the GX run
  folder holding that evidence. An edition enters the file only from a validation that
  passed; a change of the digest validates every edition again. Data Docs keep, for
  this suite, every run folder still named in the file and the current run's; for an
  edition, the latest run that validated it is its evidence.
- **Every other suite, whole** (the marts, rebuilt whole by dbt): its key digests the
  suite as defined (expectations, relations, severities), the warehouse's path, the
  Great Expectations version and the content of each relation it reads, computed in
  DuckDB (row count, the sum of the rows' hashes, the columns and their types). Stored
  in `<docs_dir>/.gx/suites_kept.json` with the GX run folder, the warehouse and the
  results (plain `SuiteResult` data) of the validation, when the results may stand:
  passed, or failed on warnings only (the drift suite), and no expectation raised an
  error. Results whose
  run folder or page is gone (a full validation replaced them) never stand. DuckDB only
  (the duckdb and spark targets); on PostgreSQL every suite runs.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from barometre.common.atomic_file import write_text_atomically
from barometre.common.digest import digest as _digest
from barometre.common.digest import relation_content
from barometre.validate.data_docs import STORE_DIR

SUITE = "fct_answers"
STATE = "fct_answers_editions.json"


@dataclass(frozen=True)
class Scope:
    """Which editions of the fact table to validate now, and which results stand."""

    digest: str
    keys: Mapping[str, str]
    """current key of every edition in the table"""
    validate: tuple[str, ...]
    """editions to validate now (every one when `full`)"""
    kept: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """edition -> {"key", "run"}: validated earlier with its current key"""

    @property
    def full(self) -> bool:
        return not self.kept


def _rows(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted(json.dumps(dict(r), sort_keys=True, default=str) for r in rows)


def current_keys(
    session: Any, warehouse: Path, suite_definition: Any, scale_sizes: Mapping[str, int]
) -> tuple[str, dict[str, str]] | None:
    """(suite digest, key per edition) of the warehouse as it is; None when the fact table
    carries no build mark (then every edition is validated)."""
    relation = session.physical("core.fct_answers")
    try:
        marks = session.query(
            f"select edition_code, min(edition_build_mark) as mark, "
            f"count(distinct edition_build_mark) as n_marks from {relation} "
            "group by edition_code"
        )
        questions = session.query(f"select * from {session.physical('reference.questions')}")
        types = session.query(f"select * from {session.physical('reference.collectivity_types')}")
    except Exception:  # no build mark (an older build, another engine): validate all
        return None
    by_edition: dict[str, list[Mapping[str, Any]]] = {}
    for q in questions:
        by_edition.setdefault(str(q.get("edition_code")), []).append(q)
    digest = _digest(
        {"suite": suite_definition, "warehouse": str(warehouse), "types": _rows(types)}
    )
    keys = {}
    for m in marks:
        edition = str(m["edition_code"])
        if int(m["n_marks"]) != 1:  # a half-rebuilt edition: never trusted
            keys[edition] = f"unsettled-{os.urandom(8).hex()}"
            continue
        keys[edition] = _digest(
            {
                "mark": m["mark"],
                "scale_size": scale_sizes.get(edition),
                "questions": _rows(by_edition.get(edition, [])),
            }
        )
    return digest, keys


def _state_path(docs_dir: Path) -> Path:
    return docs_dir / STORE_DIR / STATE


def plan(docs_dir: Path, digest: str, keys: Mapping[str, str]) -> Scope:
    """What to validate: the editions whose key is not the one they were validated with."""
    try:
        state = json.loads(_state_path(docs_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    validated = state.get("editions") if state.get("digest") == digest else None
    if not isinstance(validated, dict):
        return Scope(digest, dict(keys), tuple(sorted(keys)))
    stored = run_folders(docs_dir)  # evidence deleted since (a full validation): not kept
    kept = {
        e: v
        for e, v in validated.items()
        if e in keys and isinstance(v, dict) and v.get("key") == keys[e] and v.get("run") in stored
    }
    return Scope(digest, dict(keys), tuple(sorted(e for e in keys if e not in kept)), kept)


def run_folders(docs_dir: Path, suite: str = SUITE) -> set[str]:
    """The run folders (GX run time) of the stored results of `suite`."""
    base = docs_dir / STORE_DIR / "validations" / suite
    return {p.name for p in base.glob("*/*") if p.is_dir()}


def record(docs_dir: Path, scope: Scope, run: str | None, passed: bool) -> None:
    """Remember the editions validated now (when the validation passed) beside the kept
    ones, then delete the stored results and pages no edition needs any more (the
    current run's stay, passed or not: they are the evidence of this run)."""
    editions: dict[str, Any] = {e: dict(v) for e, v in scope.kept.items()}
    if passed and run:
        editions.update({e: {"key": scope.keys[e], "run": run} for e in scope.validate})
    write_text_atomically(
        _state_path(docs_dir),
        json.dumps({"digest": scope.digest, "editions": editions}, indent=1, sort_keys=True),
    )
    prune(docs_dir, {v["run"] for v in editions.values()} | ({run} if run else set()))


def prune(docs_dir: Path, keep: set[str]) -> None:
    """Delete the stored fct_answers results and pages of every run folder not in `keep`."""
    for base in (docs_dir / STORE_DIR / "validations" / SUITE, docs_dir / "validations" / SUITE):
        for folder in base.glob("*/*"):
            if folder.is_dir() and folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)


def kept_page(docs_dir: Path, scope: Scope) -> Path | None:
    """The Data Docs page of the latest run whose results stand for unchanged editions."""
    runs = sorted({str(v["run"]) for v in scope.kept.values()})
    for run in reversed(runs):
        pages = sorted((docs_dir / "validations" / SUITE).glob(f"*/{run}/*.html"))
        if pages:
            return pages[-1]
    return None


# --- every other suite, whole -------------------------------------------------------------

SUITES_STATE = "suites_kept.json"


def _relation_content(session: Any, relation: str) -> dict[str, Any]:
    """What a relation of the session holds (common.digest.relation_content)."""
    schema, _, table = session.physical(relation).partition(".")
    return relation_content(
        lambda sql: [tuple(row.values()) for row in session.query(sql)], schema, table
    )


def suite_key(session: Any, suite: Any, warehouse: Path) -> str | None:
    """The key of `suite` (a `suites.Suite`) on the warehouse as it is, or None when it
    cannot be computed (not DuckDB, an error): the suite then runs."""
    if getattr(session, "dialect", None) != "duckdb":
        return None
    from dataclasses import asdict
    from importlib.metadata import version

    try:
        contents = {r: _relation_content(session, r) for r in suite.relations}
    except Exception:  # a relation DuckDB cannot hash: validate
        return None
    return _digest(
        {
            "suite": asdict(suite),
            "warehouse": str(warehouse),
            "great_expectations": version("great_expectations"),
            "contents": contents,
        }
    )


def _suites_state_path(docs_dir: Path) -> Path:
    return docs_dir / STORE_DIR / SUITES_STATE


def _read_suites_state(docs_dir: Path) -> dict[str, Any]:
    try:
        state = json.loads(_suites_state_path(docs_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def results_stand(docs_dir: Path, warehouse: Path) -> bool:
    """Whether results of earlier validations of `warehouse` are recorded to stand (a
    cheap guess that its next validation may run no suite; the rules are `kept_result`'s)."""
    where = str(Path(warehouse).resolve())
    return any(
        isinstance(entry, dict) and entry.get("warehouse") == where
        for entry in _read_suites_state(docs_dir).values()
    )


def kept_result(docs_dir: Path, name: str, key: str | None) -> Any:
    """The `SuiteResult` of suite `name` that stands for `key`, or None (validate)."""
    from barometre.validate.results import result_from_json

    if key is None or not (docs_dir / "index.html").is_file():
        return None
    entry = _read_suites_state(docs_dir).get(name)
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    if entry.get("run") not in run_folders(docs_dir, name):
        return None
    try:
        result = result_from_json(entry["result"])
    except (KeyError, TypeError, ValueError):
        return None
    if result.docs_page is None or not result.docs_page.is_file():
        return None
    return replace(result, kept_run=str(entry["run"]))


def may_stand(result: Any) -> bool:
    """Whether a suite's results may stand while its inputs do not change: passed, or
    failed on warnings only, and no expectation raised an error (which might not recur)."""
    from barometre.validate.results import FAILED, PASSED
    from barometre.validate.suites import WARNING

    if any(e.exception for e in result.expectations):
        return False
    if result.status == PASSED:
        return True
    return result.status == FAILED and all(e.severity == WARNING for e in result.failures)


def record_results(
    docs_dir: Path, warehouse: Path, validated: Mapping[str, tuple[str | None, Any]]
) -> None:
    """Remember the suites validated now on `warehouse`: name -> (key, SuiteResult). Those
    whose results may stand are kept with their run folder; the others are forgotten."""
    from barometre.validate.results import result_to_json

    if not validated:
        return
    state = _read_suites_state(docs_dir)
    for name, (key, result) in validated.items():
        runs = sorted(run_folders(docs_dir, name))
        if key is None or not runs or not may_stand(result):
            state.pop(name, None)
            continue
        state[name] = {
            "key": key,
            "run": runs[-1],
            "warehouse": str(Path(warehouse).resolve()),
            "result": result_to_json(result),
        }
    write_text_atomically(_suites_state_path(docs_dir), json.dumps(state, indent=1, sort_keys=True))
