"""The fact table's suite on the editions that changed only (issue 10, P5).

`core.fct_answers` is rebuilt edition by edition (dbt incremental, docs/performance.md):
each row carries its edition's build mark, a digest of what the edition's rows are
computed from. Every expectation of the `fct_answers` suite is per edition (levels on the
edition's scale, respondents per edition and group, response rate per edition and
question, questionnaire coverage, cells per respondent), so an edition validated with a
mark still in the table need not be validated again. The marts are rebuilt whole and
their suites always run.

What is remembered, in `<docs_dir>/.gx/fct_answers_editions.json`: a digest of what the
whole suite depends on besides the editions' rows (its expectations, the warehouse's
path, `reference.collectivity_types`), and per edition the key it was validated with
(build mark, scale size, its `reference.questions` rows) and the GX run folder holding
that evidence. An edition enters the file only from a validation that passed; a change
of the digest validates every edition again.

Data Docs keep, for the `fct_answers` suite, every run folder still named in the file
(the evidence of the unchanged editions) and the current run's; the others are deleted.
For an edition, the latest run that validated it is its evidence.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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


def run_folders(docs_dir: Path) -> set[str]:
    """The run folders (GX run time) of the stored fct_answers results."""
    base = docs_dir / STORE_DIR / "validations" / SUITE
    return {p.name for p in base.glob("*/*") if p.is_dir()}


def record(docs_dir: Path, scope: Scope, run: str | None, passed: bool) -> None:
    """Remember the editions validated now (when the validation passed) beside the kept
    ones, then delete the stored results and pages no edition needs any more (the
    current run's stay, passed or not: they are the evidence of this run)."""
    editions: dict[str, Any] = {e: dict(v) for e, v in scope.kept.items()}
    if passed and run:
        editions.update({e: {"key": scope.keys[e], "run": run} for e in scope.validate})
    path = _state_path(docs_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    staging.write_text(
        json.dumps({"digest": scope.digest, "editions": editions}, indent=1, sort_keys=True),
        encoding="utf-8",
    )
    os.replace(staging, path)
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
