"""`barometre new-edition`: start a new edition folder, to be filled in by hand.

Writes `data/raw/<edition>/manifest.yml` (a commented template of the survey tool's
layout, from barometre/ingest/templates/<layout>.yml, in the format of
docs/adding-an-edition.md), `seed_stubs/*.csv` (the rows the seeds need for the
edition, with the seeds' exact headers, pre-filled from the latest edition to be
checked and pasted into seeds/) and `SEEDS_TODO.md` (what to do next).

The manifest lists a placeholder export file on purpose: until the real export is put
in the folder and named in `files:`, `barometre validate` and the runs say the export
is missing, and the sensor waits (it only runs editions whose listed files exist).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import yaml

from barometre.ingest.errors import IngestError
from barometre.ingest.manifest import MANIFEST_NAME, parse_manifest
from barometre.ingest.reference import read_seed
from barometre.ingest.templates import LAYOUTS, template_text

STUBS_DIR = "seed_stubs"
TODO_NAME = "SEEDS_TODO.md"
PLACEHOLDER = "TODO"
EDITION_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

# seed → how to stub it from the latest edition's rows
_EDITION_SEEDS = (
    "editions",
    "scale_levels",
    "themes",
    "questions",
    "question_transverse_themes",
    "question_crosswalk",
)
_HEADER_ONLY_SEEDS = ("collectivity_aliases",)


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _stub_rows(seeds_dir: Path, edition: str) -> tuple[dict[str, tuple[list[str], list]], str]:
    """Rows each seed needs for `edition`, copied from the latest edition; its code."""
    editions_seed = read_seed(seeds_dir, "editions.csv")
    header, editions = list(editions_seed.header), editions_seed.rows
    latest = max(editions, key=lambda r: int(r["edition_number"]))
    prev = latest["edition_code"]
    year = edition if re.fullmatch(r"\d{4}", edition) else PLACEHOLDER
    stubs: dict[str, tuple[list[str], list]] = {
        "editions": (
            header,
            [
                {
                    **latest,
                    "edition_code": edition,
                    "edition_year": year,
                    "edition_number": str(int(latest["edition_number"]) + 1),
                    "field_start": f"{PLACEHOLDER} YYYY-MM-DD",
                    "field_end": f"{PLACEHOLDER} YYYY-MM-DD",
                    "label_fr": f"{PLACEHOLDER} titre de l'édition {edition}",
                }
            ],
        )
    }
    for name in _EDITION_SEEDS[1:]:
        seed = read_seed(seeds_dir, f"{name}.csv")
        header, rows = list(seed.header), seed.rows
        copied = [{**r, "edition_code": edition} for r in rows if r["edition_code"] == prev]
        if name == "questions":
            # wording_status is carried over: a wording reconstructed for `prev` stays
            # reconstructed until checked against the new questionnaire.
            copied = [
                {
                    **r,
                    "source_note": f"{PLACEHOLDER}: check against the {edition} "
                    f"questionnaire (copied from {prev}: {r['question_code']})",
                }
                for r in copied
            ]
        elif name == "question_crosswalk":
            # Each copied question keeps the key of the question it was copied from: right
            # while its wording stays the same; a new or reworded question takes
            # new_question_key() (the seed checks refuse a key shared by two wordings).
            copied = [
                {**r, "comparable_reason": ""} if "comparable_reason" in r else r for r in copied
            ]
        stubs[name] = (header, copied)
    for name in _HEADER_ONLY_SEEDS:
        stubs[name] = (list(read_seed(seeds_dir, f"{name}.csv").header), [])
    return stubs, prev


def new_question_key(edition: str, question_code: str) -> str:
    """The question_key of a question new in `edition` (docs/adding-an-edition.md)."""
    return f"{edition}_{question_code}"


def _todo(
    edition: str,
    folder: Path,
    prev: str,
    stubs: dict[str, tuple[list[str], list]],
    skipped: list[str],
) -> str:
    lines = [
        f"# Edition {edition}: what is left to do",
        "",
        f"Written by `barometre new-edition {edition}`. Steps of docs/adding-an-edition.md:",
        "",
        f"1. Put the export file(s) in `{folder}/` exactly as the survey tool wrote them.",
        "2. Fill in `manifest.yml` (replace every TODO; check each column name against the",
        "   export's header row).",
        f"3. Add the edition's seed rows. `{STUBS_DIR}/` holds them with the seeds' exact",
        f"   headers, copied from edition {prev}: check every row against the {edition}",
        "   questionnaire and report, fix or delete, replace every TODO, then append the",
        "   rows (without the header) to the file of the same name in `seeds/`:",
        "",
    ]
    for name, (_header, rows) in stubs.items():
        note = {
            "question_crosswalk": " (one row per question of the edition: a question "
            "identical to an earlier edition's keeps that question's key, as copied here; a "
            "question new or reworded in this edition gets the key "
            f"`{new_question_key(edition, '<question_code>')}`, e.g. "
            f"`{new_question_key(edition, 'T11_Q01')}`; a reworded question that stays "
            "comparable keeps its key and says why in `comparable_reason`)",
            "collectivity_aliases": " (names in the export that differ from the "
            "official reference; empty to start with)",
            "questions": " (wording_fr must be the exact question text of the edition; "
            "wording_status is copied from the earlier edition: `published` only for a "
            "wording printed in the edition's questionnaire or report)",
        }.get(name, "")
        lines.append(f"   - `seeds/{name}.csv`: {len(rows)} stub row(s){note}")
    if skipped:
        lines += [
            "",
            f"   Already in seeds/ for {edition}, no stub written: "
            + ", ".join(f"`{s}.csv`" for s in skipped),
        ]
    lines += [
        "",
        f"4. `barometre validate {folder}` until it says OK: it checks the export and the",
        "   seed rows (every question keyed, keys unique, crosswalked wordings equal, themes",
        "   and scale complete) with the same tests `barometre run` applies.",
        f"5. Delete `{STUBS_DIR}/` and this file, then `barometre run --edition {edition}`",
        "   (or let the Dagster sensor pick the edition up).",
        "",
    ]
    return "\n".join(lines)


def fill_template(layout: str, edition: str, folder: Path, codes: str) -> str:
    """The manifest template of `layout` with its placeholders replaced."""
    text = template_text(layout)
    for key, value in (("{edition}", edition), ("{folder}", str(folder)), ("{codes}", codes)):
        text = text.replace(key, value)
    return text


def _check_template(text: str, path: Path, edition: str, layout: str) -> None:
    """The filled template read by the manifest model, as the run will read it: a
    template the model refuses is never written (the templates are ours, packaged)."""
    try:
        manifest = parse_manifest(yaml.safe_load(text), path)
    except IngestError as err:
        raise ValueError(f"template {layout!r} is not a valid manifest: {err}") from None
    if (manifest.edition, manifest.layout) != (edition, layout):
        raise ValueError(
            f"template {layout!r} writes edition {manifest.edition!r} and layout "
            f"{manifest.layout!r}, not {edition!r} and {layout!r}"
        )


def create_edition(data_dir: Path, seeds_dir: Path, edition: str, layout: str) -> list[Path]:
    """Create `data_dir/<edition>/` with a manifest template and seed stubs; the files."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    if not EDITION_CODE.match(edition):
        raise ValueError(
            f"edition code {edition!r}: use letters, digits, - and _ only "
            "(it is the folder name and the Dagster partition), e.g. 2024"
        )
    folder = Path(data_dir) / edition
    if folder.exists():
        raise FileExistsError(
            f"{folder} already exists: nothing was written "
            "(new-edition never overwrites an edition folder)"
        )
    stubs, prev = _stub_rows(Path(seeds_dir), edition)
    skipped = []
    for name in list(stubs):
        if name in _EDITION_SEEDS:
            seeded = read_seed(Path(seeds_dir), f"{name}.csv").rows
            if any(r.get("edition_code") == edition for r in seeded):
                skipped.append(name)
                del stubs[name]

    editions = read_seed(Path(seeds_dir), "editions.csv").rows
    own = [r for r in editions if r["edition_code"] == edition]
    scale = int((own or [max(editions, key=lambda r: int(r["edition_number"]))])[0]["scale_size"])
    codes = ", ".join(f"A{i}: {i}" for i in range(1, scale + 1))
    text = fill_template(layout, edition, folder, codes)
    _check_template(text, folder / MANIFEST_NAME, edition, layout)
    folder.mkdir(parents=True)
    written = [folder / MANIFEST_NAME]
    written[0].write_text(text, encoding="utf-8")
    (folder / STUBS_DIR).mkdir()
    for name, (header, rows) in stubs.items():
        path = folder / STUBS_DIR / f"{name}.csv"
        _write_csv(path, header, rows)
        written.append(path)
    todo = folder / TODO_NAME
    todo.write_text(_todo(edition, folder, prev, stubs, skipped), encoding="utf-8")
    written.append(todo)
    return written
