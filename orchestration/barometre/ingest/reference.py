"""The slice of the seeds that ingestion needs: scales, questions and the collectivity reference.

Seeds are the single source of edition-specific rules: the ingester reads them
here rather than repeating any of them in code.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from barometre.ingest.errors import IngestError
from barometre.ingest.text import normalize_names


@dataclass(frozen=True)
class Question:
    edition_code: str
    question_code: str
    theme_code: str
    order_in_theme: int
    wording_fr: str


@dataclass(frozen=True)
class Collectivity:
    siren: str
    name: str
    type_code: str


@dataclass(frozen=True)
class Reference:
    """Seeds needed to ingest one edition."""

    seeds_dir: Path
    edition_code: str
    scale_size: int
    level_labels: dict[int, str]
    questions: tuple[Question, ...]
    type_codes: frozenset[str]
    names: dict[str, tuple[Collectivity, ...]]
    """normalised name → candidates (aliases first: an alias decides alone)"""
    name_keys: dict[str, str] = field(default_factory=dict)
    """reference name or alias as written → its normalised key (saves normalising an
    export's names again when they are written as in the seeds)"""

    def question_by_theme_order(self) -> dict[tuple[str, int], Question]:
        return {(q.theme_code, q.order_in_theme): q for q in self.questions}


@dataclass(frozen=True)
class SeedFile:
    """One seed file as written: its header, its rows, and the line each row starts on."""

    path: Path
    header: tuple[str, ...]
    rows: tuple[dict[str, str], ...]
    lines: tuple[int, ...]
    """line of the file where each row starts (line 1 is the header)"""


def read_seed(seeds_dir: Path, name: str) -> SeedFile:
    """Seed `name` (e.g. "questions.csv"): the project's one reader of seed files
    (ingestion, the sample generator, new-edition's stubs, the seed advice and the seed
    lines of dbt failures); a missing file is an IngestError."""
    path = seeds_dir / name
    if not path.is_file():
        raise IngestError(
            "seed file is missing",
            file=path,
            hint="restore it from git; seeds are part of the project",
        )
    rows, lines, start = [], [], 2
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            rows.append(row)
            lines.append(start)
            start = reader.line_num + 1
        header = tuple(reader.fieldnames or ())
    return SeedFile(path, header, tuple(rows), tuple(lines))


def seed_rows(seeds_dir: Path, name: str) -> list[dict[str, str]]:
    """The rows of seed `name` (e.g. "questions.csv"), read by `read_seed`."""
    return list(read_seed(seeds_dir, name).rows)


def load_reference(seeds_dir: Path, edition_code: str, *, with_names: bool = True) -> Reference:
    """Load the seeds for `edition_code`; an edition missing from the seeds is an error.

    `with_names=False` skips the collectivity names (normalising tens of thousands of
    names costs seconds), for checks that do not resolve names."""
    editions = {r["edition_code"]: r for r in seed_rows(seeds_dir, "editions.csv")}
    if edition_code not in editions:
        raise IngestError(
            f"edition {edition_code!r} is not in the seeds",
            file=seeds_dir / "editions.csv",
            hint="add the edition's rows to seeds/editions.csv, scale_levels.csv, themes.csv "
            "and questions.csv (docs/adding-an-edition.md)",
        )
    scale_size = int(editions[edition_code]["scale_size"])
    level_labels = {
        int(r["level"]): r["label_fr"]
        for r in seed_rows(seeds_dir, "scale_levels.csv")
        if r["edition_code"] == edition_code
    }
    if sorted(level_labels) != list(range(1, scale_size + 1)):
        raise IngestError(
            f"scale levels of edition {edition_code} are {sorted(level_labels)}, but "
            f"editions.csv says the scale has {scale_size} levels",
            file=seeds_dir / "scale_levels.csv",
            hint="make scale_levels.csv list levels 1..scale_size for the edition",
        )
    questions = tuple(
        Question(
            r["edition_code"],
            r["question_code"],
            r["theme_code"],
            int(r["order_in_theme"]),
            r["wording_fr"],
        )
        for r in seed_rows(seeds_dir, "questions.csv")
        if r["edition_code"] == edition_code
    )
    if not questions:
        raise IngestError(
            f"seeds list no question for edition {edition_code}",
            file=seeds_dir / "questions.csv",
            hint="add the edition's questions to seeds/questions.csv",
        )

    # A type is accepted from the edition that admits it (CC: communautés de communes).
    number = int(editions[edition_code]["edition_number"])
    type_codes = frozenset(
        r["type_code"]
        for r in seed_rows(seeds_dir, "collectivity_types.csv")
        if int(r["first_edition_number"] or 1) <= number
    )
    names: dict[str, tuple[Collectivity, ...]] = {}
    keys: dict[str, str] = {}
    if not with_names:
        return Reference(
            seeds_dir, edition_code, scale_size, level_labels, questions, type_codes, names
        )
    official = {
        r["siren"]: Collectivity(r["siren"], r["name"], r["type_code"])
        for r in seed_rows(seeds_dir, "collectivities.csv")
    }
    aliases = seed_rows(seeds_dir, "collectivity_aliases.csv")
    # Every name and alias normalised in one batch (the names of a large reference cost
    # seconds one by one).
    written = [c.name for c in official.values()] + [a["alias"] for a in aliases]
    keys = dict(zip(written, normalize_names(written), strict=True))
    for c in official.values():
        key = keys[c.name]
        names[key] = (*names.get(key, ()), c)
    for alias in aliases:
        target = official.get(alias["siren"])
        if target is None:
            raise IngestError(
                f"alias {alias['alias']!r} points to SIREN {alias['siren']} which is not in "
                "seeds/collectivities.csv",
                file=seeds_dir / "collectivity_aliases.csv",
                hint="fix the SIREN of the alias",
            )
        type_code = alias.get("type_code") or target.type_code
        names[keys[alias["alias"]]] = (Collectivity(target.siren, target.name, type_code),)
    return Reference(
        seeds_dir, edition_code, scale_size, level_labels, questions, type_codes, names, keys
    )
