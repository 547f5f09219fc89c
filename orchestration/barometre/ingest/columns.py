"""Sort an export's columns into respondent fields, dropped columns and questions.

A question column is recognised in one of three ways (manifest `questions.by`): its
name matched by `pattern` (theme and order), its wording (the header block's wording
row) compared with the seeds' wording_fr, or an explicit `map` of column → question code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from barometre.ingest.errors import IngestError
from barometre.ingest.manifest import Manifest
from barometre.ingest.reference import Question, Reference
from barometre.ingest.text import normalize_text

_FIX_MANIFEST = "declare it in manifest.yml (respondent, metadata_columns or personal_columns)"


@dataclass(frozen=True)
class ColumnPlan:
    """Which header plays which part; question columns map header → question."""

    respondent: dict[str, str]
    """respondent field → header"""
    questions: dict[str, Question]
    """header → question"""


def _map_by_code(manifest: Manifest, reference: Reference, header: str) -> Question | None:
    assert manifest.question_pattern is not None
    match = manifest.question_pattern.match(header)
    if not match:
        return None
    try:
        order = int(match.group("order"))
    except (TypeError, ValueError):  # an optional group that did not take part, or not digits
        return None
    return reference.question_by_theme_order().get((match.group("theme"), order))


def _check_map(manifest: Manifest, reference: Reference, headers: tuple[str, ...]) -> None:
    """Every entry of `questions.map` names a column of the export and a seed question."""
    codes = {q.question_code for q in reference.questions}
    for column, code in (manifest.questions.map or {}).items():
        if code not in codes:
            raise IngestError(
                f"questions.map sends column {column[:80]!r} to question {code!r}, which "
                f"seeds/questions.csv does not list for edition {manifest.edition}",
                file=manifest.path,
                hint="fix the question code in `questions.map`, or add the question to the seeds",
            )
        if column not in headers:
            raise IngestError(
                f"questions.map names column {column[:80]!r}, which the export does not have",
                file=manifest.path,
                hint="fix the column name in `questions.map` (names row of the export)",
            )


def plan_columns(
    path: Path,
    headers: tuple[str, ...],
    manifest: Manifest,
    reference: Reference,
    wordings: tuple[str, ...] | None = None,
) -> ColumnPlan:
    """Check every header is accounted for and every seed question appears exactly once.

    `wordings` is the wording row of the header block, one per header (default: the
    headers themselves); `questions.by: wording` matches on it.
    """
    for field_name, header in manifest.respondent.items():
        if header not in headers:
            raise IngestError(
                f"the column for respondent field {field_name!r} is missing",
                file=path,
                row=1,
                column=header,
                hint="fix `respondent:` in manifest.yml or re-export with that column",
            )
    for header in (*manifest.metadata_columns, *manifest.personal_columns):
        if header not in headers:
            raise IngestError(
                "a column declared in manifest.yml is missing from the export",
                file=path,
                row=1,
                column=header,
                hint="remove it from metadata_columns/personal_columns or re-export",
            )
    known = {*manifest.respondent.values(), *manifest.metadata_columns, *manifest.personal_columns}
    by_wording = {normalize_text(q.wording_fr): q for q in reference.questions}
    by_code = {q.question_code: q for q in reference.questions}
    column_map = manifest.questions.map or {}
    if manifest.question_mapping == "map":
        _check_map(manifest, reference, headers)
    wording_of = dict(zip(headers, wordings or headers, strict=True))
    questions: dict[str, Question] = {}
    for header in headers:
        if header in known:
            continue
        if manifest.question_mapping == "code":
            question = _map_by_code(manifest, reference, header)
        elif manifest.question_mapping == "map":
            question = by_code.get(column_map.get(header, ""))
        else:
            question = by_wording.get(normalize_text(wording_of[header]))
        if question is None:
            how = {
                "code": "matches no question of the edition through questions.pattern",
                "map": "is not in questions.map",
                "wording": "matches no question wording of the edition in seeds/questions.csv"
                + (
                    f" (its wording: {wording_of[header][:80]!r})"
                    if wording_of[header] != header
                    else ""
                ),
            }[manifest.question_mapping]
            raise IngestError(
                f"this column {how}",
                file=path,
                row=1,
                column=header[:120],
                hint=f"if it is a question, add it to seeds/questions.csv for edition "
                f"{manifest.edition}; otherwise {_FIX_MANIFEST}",
            )
        questions[header] = question

    seen: dict[str, str] = {}
    for header, question in questions.items():
        if question.question_code in seen:
            raise IngestError(
                f"two columns map to question {question.question_code} "
                f"(the other is {seen[question.question_code][:80]!r})",
                file=path,
                row=1,
                column=header[:120],
                hint="fix the export headers or the question wordings in seeds/questions.csv",
            )
        seen[question.question_code] = header
    missing = sorted(q.question_code for q in reference.questions if q.question_code not in seen)
    if missing:
        raise IngestError(
            f"the export has no column for question(s) {', '.join(missing)} of seeds/questions.csv",
            file=path,
            row=1,
            hint="the manifest and the seeds disagree: fix the seeds for this edition, or the "
            "question mapping in manifest.yml",
        )
    return ColumnPlan(respondent=dict(manifest.respondent), questions=questions)
