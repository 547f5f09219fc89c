"""`barometre new-edition`: start a new edition folder, to be filled in by hand.

Writes `data/raw/<edition>/manifest.yml` (a commented template of the survey tool's
layout, in the format of docs/adding-an-edition.md), `seed_stubs/*.csv` (the rows the
seeds need for the edition, with the seeds' exact headers, pre-filled from the latest
edition to be checked and pasted into seeds/) and `SEEDS_TODO.md` (what to do next).

The manifest lists a placeholder export file on purpose: until the real export is put
in the folder and named in `files:`, `barometre validate` and the runs say the export
is missing, and the sensor waits (it only runs editions whose listed files exist).
"""

# ruff: noqa: E501  (the manifest templates reproduce docs/adding-an-edition.md line for line)
from __future__ import annotations

import csv
import re
from pathlib import Path

from barometre.ingest.manifest import MANIFEST_NAME

LAYOUTS = ("limesurvey_csv", "surveymonkey_xlsx")
STUBS_DIR = "seed_stubs"
TODO_NAME = "SEEDS_TODO.md"
PLACEHOLDER = "TODO"
EDITION_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

_LIMESURVEY = """\
# Edition {edition}: LimeSurvey "Export responses" CSV. Written by `barometre new-edition`:
# replace every TODO, check every value against the export, then run
#   barometre validate {folder}
# Format: docs/adding-an-edition.md.
edition: "{edition}"            # must equal the folder name and a row of seeds/editions.csv
layout: limesurvey_csv          # free label, recorded with every row (limesurvey_csv, surveymonkey_xlsx, …)
files:                          # one or more export files, all in the same layout
  - "TODO_export_{edition}.csv" # TODO: the export's file name, as the survey tool wrote it
format: csv                     # csv | xlsx
encoding: utf-8-sig             # csv only: utf-8, utf-8-sig (BOM), latin-1
delimiter: ";"                  # csv only
header_rows: 1                  # 1, or 2 for SurveyMonkey (the second row is a sub-header)
sheet: null                     # xlsx only: sheet name, default the first sheet
timestamp_format: "%Y-%m-%d %H:%M:%S"   # strptime format of the date columns

respondent:                     # which export columns carry what (header text of row 1)
  response_id: id
  collectivity: "Collectivité"
  type: "Type de collectivité"  # optional: omit when the export has no type column
  started_at: startdate
  submitted_at: submitdate      # an empty value marks an incomplete response
metadata_columns:               # kept out of the warehouse but expected in the file
  - lastpage
  - startlanguage
  - datestamp
personal_columns:               # personal data of the person who filled the form: never read further
  - ipaddr
  - token
  - "Courriel du contact"

answers:
  encoding: codes               # codes: a code → level table below; labels: French labels of seeds/scale_levels.csv
  codes: {{{codes}}}  # TODO: one code per level of the edition's scale
  not_concerned: ["NC"]         # tokens meaning "not concerned"
  no_answer: [""]               # tokens meaning "no answer" (empty cell)

questions:                      # how question columns map to question codes of seeds/questions.csv
  by: code                      # code | wording
  # by: code — a regular expression with named groups `theme` and `order`, matched
  # against each remaining header; (theme, order) is looked up in seeds/questions.csv.
  pattern: '^(?P<theme>T\\d{{2}})\\[SQ(?P<order>\\d{{3}})\\]$'
  # by: wording — the header text is compared with seeds/questions.csv wording_fr,
  # both normalised: accents removed, curly quotes and apostrophes made straight,
  # runs of spaces folded, case ignored.

duplicates: latest_complete     # rule for a collectivity that submitted more than once:
                                # keep its latest complete submission (by submitted_at,
                                # then response_id); the others are quarantined.
"""

_SURVEYMONKEY = """\
# Edition {edition}: SurveyMonkey "All responses data" XLSX (expanded). Written by
# `barometre new-edition`: replace every TODO, check every value against the export,
# then run
#   barometre validate {folder}
# Format: docs/adding-an-edition.md. With `header_rows: 2`, row 1 holds the column
# names and the question wordings, row 2 the sub-headers (`Response` under each
# question); data start on row 3. Columns are named by row 1.
edition: "{edition}"            # must equal the folder name and a row of seeds/editions.csv
layout: surveymonkey_xlsx       # free label, recorded with every row (limesurvey_csv, surveymonkey_xlsx, …)
files:                          # one or more export files, all in the same layout
  - "TODO_export_{edition}.xlsx" # TODO: the export's file name, as the survey tool wrote it
format: xlsx                    # csv | xlsx
header_rows: 2                  # 1, or 2 for SurveyMonkey (the second row is a sub-header)
sheet: null                     # xlsx only: sheet name, default the first sheet
timestamp_format: "%m/%d/%Y %I:%M:%S %p"   # strptime format of the date columns

respondent:                     # which export columns carry what (header text of row 1)
  response_id: "Respondent ID"
  collectivity: "Custom Data 1" # TODO: the column holding the collectivity's name
  # type: "…"                   # optional: omit when the export has no type column
  started_at: "Start Date"
  submitted_at: "End Date"      # an empty value marks an incomplete response
metadata_columns:               # kept out of the warehouse but expected in the file
  - "Collector ID"
personal_columns:               # personal data of the person who filled the form: never read further
  - "IP Address"
  - "Email Address"
  - "First Name"
  - "Last Name"

answers:
  encoding: labels              # codes: a code → level table; labels: French labels of seeds/scale_levels.csv
  not_concerned: ["Non concerné"]   # tokens meaning "not concerned"
  no_answer: [""]               # tokens meaning "no answer" (empty cell)

questions:                      # how question columns map to question codes of seeds/questions.csv
  by: wording                   # code | wording
  # by: wording — the header text is compared with seeds/questions.csv wording_fr,
  # both normalised: accents removed, curly quotes and apostrophes made straight,
  # runs of spaces folded, case ignored.

duplicates: latest_complete     # rule for a collectivity that submitted more than once:
                                # keep its latest complete submission (by submitted_at,
                                # then response_id); the others are quarantined.
"""

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


def _read_seed(seeds_dir: Path, name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (seeds_dir / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _stub_rows(seeds_dir: Path, edition: str) -> tuple[dict[str, tuple[list[str], list]], str]:
    """Rows each seed needs for `edition`, copied from the latest edition; its code."""
    header, editions = _read_seed(seeds_dir, "editions")
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
        header, rows = _read_seed(seeds_dir, name)
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
        stubs[name] = (_read_seed(seeds_dir, name)[0], [])
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
            header, rows = _read_seed(Path(seeds_dir), name)
            if any(r.get("edition_code") == edition for r in rows):
                skipped.append(name)
                del stubs[name]

    folder.mkdir(parents=True)
    template = _LIMESURVEY if layout == "limesurvey_csv" else _SURVEYMONKEY
    _, editions = _read_seed(Path(seeds_dir), "editions")
    own = [r for r in editions if r["edition_code"] == edition]
    scale = int((own or [max(editions, key=lambda r: int(r["edition_number"]))])[0]["scale_size"])
    codes = ", ".join(f"A{i}: {i}" for i in range(1, scale + 1))
    written = [folder / MANIFEST_NAME]
    written[0].write_text(
        template.format(edition=edition, folder=folder, codes=codes), encoding="utf-8"
    )
    (folder / STUBS_DIR).mkdir()
    for name, (header, rows) in stubs.items():
        path = folder / STUBS_DIR / f"{name}.csv"
        _write_csv(path, header, rows)
        written.append(path)
    todo = folder / TODO_NAME
    todo.write_text(_todo(edition, folder, prev, stubs, skipped), encoding="utf-8")
    written.append(todo)
    return written
