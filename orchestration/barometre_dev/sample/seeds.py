"""The reference seeds the generator needs (questions, scales, crosswalk), as it needs them.

Read through the runtime's one seed reader (barometre.ingest.reference): everything
edition-specific comes from the seeds at run time, so the generator never names a
question wording, a level label or an edition in code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from barometre.ingest.reference import Question, seed_rows

__all__ = ["Edition", "Question", "load_crosswalk", "load_editions"]


@dataclass(frozen=True)
class Edition:
    """One row of seeds/editions.csv with its questions and scale labels."""

    code: str
    year: int
    field_start: str
    field_end: str
    scale_size: int
    questions: tuple[Question, ...]
    level_labels: dict[int, str]

    @property
    def themes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.theme_code for q in self.questions))


def load_editions(seeds_dir: Path) -> dict[str, Edition]:
    """Editions keyed by code, questions in theme/order order."""
    questions = [
        Question(
            r["edition_code"],
            r["question_code"],
            r["theme_code"],
            int(r["order_in_theme"]),
            r["wording_fr"],
        )
        for r in seed_rows(seeds_dir, "questions.csv")
    ]
    labels: dict[str, dict[int, str]] = {}
    for r in seed_rows(seeds_dir, "scale_levels.csv"):
        labels.setdefault(r["edition_code"], {})[int(r["level"])] = r["label_fr"]
    out: dict[str, Edition] = {}
    for r in seed_rows(seeds_dir, "editions.csv"):
        code = r["edition_code"]
        qs = sorted(
            (q for q in questions if q.edition_code == code),
            key=lambda q: (q.theme_code, q.order_in_theme),
        )
        out[code] = Edition(
            code,
            int(r["edition_year"]),
            r["field_start"],
            r["field_end"],
            int(r["scale_size"]),
            tuple(qs),
            labels.get(code, {}),
        )
    return out


def load_crosswalk(seeds_dir: Path) -> dict[tuple[str, str], str]:
    """(edition_code, question_code) → question_key."""
    return {
        (r["edition_code"], r["question_code"]): r["question_key"]
        for r in seed_rows(seeds_dir, "question_crosswalk.csv")
    }
