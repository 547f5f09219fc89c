"""Sort an export's columns into respondent fields, dropped columns and questions."""

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
    except ValueError:
        return None
    return reference.question_by_theme_order().get((match.group("theme"), order))


def plan_columns(
    path: Path, headers: tuple[str, ...], manifest: Manifest, reference: Reference
) -> ColumnPlan:
    """Check every header is accounted for and every seed question appears exactly once."""
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
    questions: dict[str, Question] = {}
    for header in headers:
        if header in known:
            continue
        if manifest.question_mapping == "code":
            question = _map_by_code(manifest, reference, header)
        else:
            question = by_wording.get(normalize_text(header))
        if question is None:
            how = (
                "matches no question of the edition through questions.pattern"
                if manifest.question_mapping == "code"
                else "matches no question wording of the edition in seeds/questions.csv"
            )
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
