"""The slice of the seeds that ingestion needs: scales, questions and the collectivity reference.

Seeds are the single source of edition-specific rules: the ingester reads them
here rather than repeating any of them in code.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from barometre.ingest.errors import IngestError
from barometre.ingest.text import normalize_names


@dataclass(frozen=True)
class Question:
    edition_code: str
    question_code: str
    theme_code: str
    order_in_theme: int
    wording_fr: str


class Collectivity(NamedTuple):
    """One collectivity of the reference (made on demand: `NameTable.by_key`)."""

    siren: str
    name: str
    type_code: str


@dataclass(frozen=True)
class NameTable:
    """The reference's collectivity names, one list per column: a large reference holds
    ~10⁵ rows, and an object per row cost more (to build, and to the garbage collector)
    than resolving the names in DuckDB (barometre.ingest.resolve)."""

    keys: list[str] = field(default_factory=list)
    """normalised name of each reference row (one row per SIREN, in file order)"""
    sirens: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    type_codes: list[str] = field(default_factory=list)
    aliases: dict[str, Collectivity] = field(default_factory=dict)
    """normalised alias → the collectivity it names (an alias decides alone)"""

    def candidate_columns(self) -> dict[str, list[str]]:
        """The candidates of each normalised name as columns name_key, siren, type_code,
        position (the rank among the name's candidates, as text)."""
        columns: dict[str, list[str]] = {k: [] for k in ("name_key", "siren", "type_code")}
        positions: list[str] = []
        ranks: dict[str, int] = {}
        for key, siren, type_code in zip(self.keys, self.sirens, self.type_codes, strict=True):
            if key in self.aliases:
                continue
            rank = ranks.get(key, 0)
            ranks[key] = rank + 1
            columns["name_key"].append(key)
            columns["siren"].append(siren)
            columns["type_code"].append(type_code)
            positions.append(str(rank))
        for key, c in self.aliases.items():
            columns["name_key"].append(key)
            columns["siren"].append(c.siren)
            columns["type_code"].append(c.type_code)
            positions.append("0")
        return {**columns, "position": positions}

    def by_key(self) -> dict[str, tuple[Collectivity, ...]]:
        """normalised name → its candidates in file order; an alias's is itself alone."""
        same_key: dict[str, list[Collectivity]] = {}
        rows = zip(self.keys, self.sirens, self.names, self.type_codes, strict=True)
        for key, siren, name, type_code in rows:
            same_key.setdefault(key, []).append(Collectivity(siren, name, type_code))
        names = {key: tuple(candidates) for key, candidates in same_key.items()}
        names.update({key: (c,) for key, c in self.aliases.items()})
        return names


@dataclass(frozen=True)
class Reference:
    """Seeds needed to ingest one edition."""

    seeds_dir: Path
    edition_code: str
    scale_size: int
    level_labels: dict[int, str]
    questions: tuple[Question, ...]
    type_codes: frozenset[str]
    name_table: NameTable = field(default_factory=NameTable)
    """the collectivity names (empty when loaded `with_names=False`)"""
    name_keys: dict[str, str] = field(default_factory=dict)
    """reference name or alias as written → its normalised key (saves normalising an
    export's names again when they are written as in the seeds)"""

    @cached_property
    def names(self) -> dict[str, tuple[Collectivity, ...]]:
        """normalised name → candidates (an alias decides alone)"""
        return self.name_table.by_key()

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


def _seed_path(seeds_dir: Path, name: str) -> Path:
    path = seeds_dir / name
    if not path.is_file():
        raise IngestError(
            "seed file is missing",
            file=path,
            hint="restore it from git; seeds are part of the project",
        )
    return path


@contextlib.contextmanager
def _records(path: Path) -> Iterator[tuple[tuple[str, ...], Iterator[tuple[int, list[str]]]]]:
    """The header of a seed file and its records: (line where it starts, its cells), blank
    lines skipped, as csv.DictReader reads them but without its per-row Python layer (a
    large reference has ~10⁵ rows)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = tuple(next(reader, ()))

        def records() -> Iterator[tuple[int, list[str]]]:
            start = reader.line_num + 1
            for cells in reader:
                if cells:
                    yield start, cells
                start = reader.line_num + 1  # after a blank line too

        yield header, records()


def read_seed(seeds_dir: Path, name: str) -> SeedFile:
    """Seed `name` (e.g. "questions.csv"): the project's one reader of seed files
    (ingestion, the sample generator, new-edition's stubs, the seed advice and the seed
    lines of dbt failures); a missing file is an IngestError.

    Rows are csv.DictReader's: a short row's missing cells None, a long row's extra
    cells in a list under the key None."""
    path = _seed_path(seeds_dir, name)
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    with _records(path) as (header, records):
        width = len(header)
        for line, cells in records:
            row: dict = dict(zip(header, cells, strict=False))
            if len(cells) > width:
                row[None] = cells[width:]
            elif len(cells) < width:
                row.update(dict.fromkeys(header[len(cells) :]))
            rows.append(row)
            lines.append(line)
    return SeedFile(path, header, tuple(rows), tuple(lines))


def seed_columns(seeds_dir: Path, name: str, columns: tuple[str, ...]) -> list[list[str]]:
    """The cells of `columns` of seed `name`, one list per column, read as `read_seed`
    reads the file but without a dict per row (the collectivity reference)."""
    path = _seed_path(seeds_dir, name)
    values: list[list[str]] = [[] for _ in columns]
    with _records(path) as (header, records):
        missing = [c for c in columns if c not in header]
        if missing:
            raise IngestError(
                f"seed file has no column {', '.join(missing)}",
                file=path,
                hint="restore its header from git",
            )
        # a repeated column name: its last cell, as a dict of the row would keep
        indexes = [len(header) - 1 - header[::-1].index(c) for c in columns]
        needed = max(indexes) + 1
        for line, cells in records:
            if len(cells) < needed:
                lacking = next(c for c, i in zip(columns, indexes, strict=True) if i >= len(cells))
                raise IngestError(
                    f"row has {len(cells)} cells: column {lacking!r} is missing",
                    file=path,
                    row=line,
                    hint="fix the row (a value holding a comma must be quoted)",
                )
            for column, index in zip(values, indexes, strict=True):
                column.append(cells[index])
    return values


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
    if not with_names:
        return Reference(seeds_dir, edition_code, scale_size, level_labels, questions, type_codes)
    sirens, names, types = seed_columns(
        seeds_dir, "collectivities.csv", ("siren", "name", "type_code")
    )
    # One row per SIREN: the last one, in the order of the first.
    row_of = {siren: i for i, siren in enumerate(sirens)}
    if len(row_of) < len(sirens):
        kept = list(row_of.values())
        sirens, names, types = ([column[i] for i in kept] for column in (sirens, names, types))
        row_of = {siren: i for i, siren in enumerate(sirens)}
    aliases = seed_rows(seeds_dir, "collectivity_aliases.csv")
    # Every name and alias normalised in one batch (the names of a large reference cost
    # seconds one by one).
    written = names + [a["alias"] for a in aliases]
    normalised = normalize_names(written)
    by_alias: dict[str, Collectivity] = {}
    for alias, key in zip(aliases, normalised[len(names) :], strict=True):
        target = row_of.get(alias["siren"])
        if target is None:
            raise IngestError(
                f"alias {alias['alias']!r} points to SIREN {alias['siren']} which is not in "
                "seeds/collectivities.csv",
                file=seeds_dir / "collectivity_aliases.csv",
                hint="fix the SIREN of the alias",
            )
        type_code = alias.get("type_code") or types[target]
        by_alias[key] = Collectivity(sirens[target], names[target], type_code)
    table = NameTable(normalised[: len(names)], sirens, names, types, by_alias)
    return Reference(
        seeds_dir,
        edition_code,
        scale_size,
        level_labels,
        questions,
        type_codes,
        table,
        dict(zip(written, normalised, strict=True)),
    )
