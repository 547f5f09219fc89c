"""Small hand-built edition folders for ingestion tests, independent of the bundled sample.

Each factory writes an export in a survey tool's layout and a matching manifest, for
the questions that the project's seeds list for the edition.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from barometre.common.settings import PROJECT_ROOT
from barometre_dev.sample.writers import LIMESURVEY_COLUMNS, SURVEYMONKEY_COLUMNS, save_workbook

SEEDS = PROJECT_ROOT / "seeds"


def seed_questions(edition: str) -> list[dict[str, str]]:
    with (SEEDS / "questions.csv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["edition_code"] == edition]
    return sorted(rows, key=lambda r: (r["theme_code"], int(r["order_in_theme"])))


def seed_level_labels(edition: str) -> dict[int, str]:
    with (SEEDS / "scale_levels.csv").open(encoding="utf-8", newline="") as handle:
        return {
            int(r["level"]): r["label_fr"]
            for r in csv.DictReader(handle)
            if r["edition_code"] == edition
        }


@dataclass
class Response:
    """One row of an export: who answered, and a default answer for every question."""

    collectivity: str
    type_code: str = ""
    submitted: str = "2020-12-01 10:00:00"
    answer: str = "A3"
    overrides: dict[str, str] = field(default_factory=dict)
    """export column header → cell text"""


LIMESURVEY_MANIFEST = {
    "edition": "2021",
    "layout": "limesurvey_csv",
    "files": ["export.csv"],
    "format": "csv",
    "encoding": "utf-8-sig",
    "delimiter": ";",
    "header_rows": 1,
    "timestamp_format": "%Y-%m-%d %H:%M:%S",
    "respondent": {
        "response_id": "id",
        "collectivity": "Collectivité",
        "type": "Type de collectivité",
        "started_at": "startdate",
        "submitted_at": "submitdate",
    },
    "metadata_columns": ["lastpage", "startlanguage", "datestamp"],
    "personal_columns": ["ipaddr", "token", "Courriel du contact"],
    "answers": {
        "encoding": "codes",
        "codes": {f"A{i}": i for i in range(1, 7)},
        "not_concerned": ["NC"],
        "no_answer": [""],
    },
    "questions": {"by": "code", "pattern": r"^(?P<theme>T\d{2})\[SQ(?P<order>\d{3})\]$"},
    "duplicates": "latest_complete",
}


def limesurvey_header(question: dict[str, str]) -> str:
    return f"{question['theme_code']}[SQ{int(question['order_in_theme']):03d}]"


def write_limesurvey(
    folder: Path, responses: Sequence[Response], manifest_overrides: dict | None = None
) -> Path:
    """A 2021 edition folder in LimeSurvey's CSV layout (BOM, `;`, all quoted, CRLF)."""
    folder.mkdir(parents=True, exist_ok=True)
    questions = [limesurvey_header(q) for q in seed_questions("2021")]
    header = [*LIMESURVEY_COLUMNS, *questions]
    with (folder / "export.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(header)
        for number, response in enumerate(responses, start=1):
            cells = {
                "id": str(number),
                "submitdate": response.submitted,
                "lastpage": "12",
                "startlanguage": "fr",
                "startdate": "2020-12-01 09:00:00",
                "datestamp": response.submitted,
                "ipaddr": f"192.0.2.{number}",
                "token": f"tok{number:04d}",
                "Collectivité": response.collectivity,
                "Type de collectivité": response.type_code,
                "Courriel du contact": f"contact{number}@example.org",
                **{q: response.answer for q in questions},
                **response.overrides,
            }
            writer.writerow([cells[h] for h in header])
    manifest = {**LIMESURVEY_MANIFEST, **(manifest_overrides or {})}
    (folder / "manifest.yml").write_text(
        yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8"
    )
    return folder


SURVEYMONKEY_MANIFEST = {
    "edition": "2018",
    "layout": "surveymonkey_xlsx",
    "files": ["export.xlsx"],
    "format": "xlsx",
    "header_rows": 2,
    "timestamp_format": "%m/%d/%Y %I:%M:%S %p",
    "respondent": {
        "response_id": "Respondent ID",
        "collectivity": "Custom Data 1",
        "started_at": "Start Date",
        "submitted_at": "End Date",
    },
    "metadata_columns": ["Collector ID"],
    "personal_columns": ["IP Address", "Email Address", "First Name", "Last Name"],
    "answers": {"encoding": "labels", "not_concerned": ["Non concerné"], "no_answer": [""]},
    "questions": {"by": "wording"},
    "duplicates": "latest_complete",
}


def write_surveymonkey(
    folder: Path, responses: Sequence[Response], manifest_overrides: dict | None = None
) -> Path:
    """A 2018 edition folder in SurveyMonkey's XLSX layout (two header rows, level labels).

    `Response.answer` is a level number as text ("3") or a literal cell text.
    """
    import openpyxl

    folder.mkdir(parents=True, exist_ok=True)
    labels = seed_level_labels("2018")
    questions = [q["wording_fr"] for q in seed_questions("2018")]
    meta = list(SURVEYMONKEY_COLUMNS)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([*meta, *questions])
    sheet.append([None] * len(meta) + ["Response"] * len(questions))
    for number, response in enumerate(responses, start=1):
        answer = (
            labels.get(int(response.answer), response.answer)
            if response.answer.isdigit()
            else response.answer
        )
        cells = {
            "Respondent ID": str(1000 + number),
            "Collector ID": "42",
            "Start Date": "03/01/2018 09:00:00 AM",
            "End Date": response.submitted,
            "IP Address": f"198.51.100.{number}",
            "Email Address": f"p{number}@example.org",
            "First Name": "Prénom",
            "Last Name": "Nom",
            "Custom Data 1": response.collectivity,
            **{q: answer for q in questions},
            **response.overrides,
        }
        sheet.append([cells[h] or None for h in [*meta, *questions]])
    save_workbook(book, folder / "export.xlsx")
    manifest = {**SURVEYMONKEY_MANIFEST, **(manifest_overrides or {})}
    (folder / "manifest.yml").write_text(
        yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8"
    )
    return folder


QUALTRICS_COLUMNS = (
    "StartDate",
    "EndDate",
    "Status",
    "IPAddress",
    "Progress",
    "Duration (in seconds)",
    "Finished",
    "RecordedDate",
    "ResponseId",
    "RecipientLastName",
    "RecipientFirstName",
    "RecipientEmail",
    "ExternalReference",
    "LocationLatitude",
    "LocationLongitude",
    "DistributionChannel",
    "UserLanguage",
    "Q_collectivite",
    "Q_type",
)
"""The columns before the questions in a Qualtrics "Export data" CSV (choice text)."""


def qualtrics_id(question: dict[str, str]) -> str:
    """Qualtrics names a matrix row `Q<block>_<row>`: here theme number and order."""
    return f"Q{int(question['theme_code'][1:])}_{int(question['order_in_theme'])}"


QUALTRICS_MANIFEST = {
    "edition": "2021",
    "layout": "qualtrics_csv",
    "files": ["export.csv"],
    "format": "csv",
    "encoding": "utf-8-sig",
    "delimiter": ",",
    "header_rows": 3,
    "names_row": 1,
    "wording_row": 2,
    "timestamp_format": "%Y-%m-%d %H:%M:%S",
    "respondent": {
        "response_id": "ResponseId",
        "collectivity": "Q_collectivite",
        "type": "Q_type",
        "started_at": "StartDate",
        "submitted_at": "EndDate",
    },
    "metadata_columns": [
        "Status",
        "Progress",
        "Duration (in seconds)",
        "Finished",
        "RecordedDate",
        "ExternalReference",
        "DistributionChannel",
        "UserLanguage",
    ],
    "personal_columns": [
        "IPAddress",
        "RecipientLastName",
        "RecipientFirstName",
        "RecipientEmail",
        "LocationLatitude",
        "LocationLongitude",
    ],
    "completeness": {"column": "Finished", "equals": ["True", "1"]},
    "answers": {"encoding": "labels", "not_concerned": ["Non concerné"], "no_answer": [""]},
    "questions": {"by": "map", "map": {}},
    "duplicates": "latest_complete",
}


def write_qualtrics(
    folder: Path,
    responses: Sequence[Response],
    manifest_overrides: dict | None = None,
    *,
    finished: Sequence[str] | None = None,
) -> Path:
    """A 2021 edition folder in Qualtrics' CSV layout: three header rows (column ids like
    Q1_1, question texts, `{"ImportId":…}`), `Finished`/`Progress`, French labels.

    `Response.answer` is a level number as text or a literal cell; `finished[i]` is the
    `Finished` cell of response i (default "True", with Progress 100; "False" gives 40).
    The manifest maps every question id to its code (`questions.by: map`).
    """
    folder.mkdir(parents=True, exist_ok=True)
    labels = seed_level_labels("2021")
    questions = seed_questions("2021")
    ids = [qualtrics_id(q) for q in questions]
    names = [*QUALTRICS_COLUMNS, *ids]
    wordings = [
        *("Start Date", "End Date", "Response Type", "IP Address", "Progress"),
        *("Duration (in seconds)", "Finished", "Recorded Date", "Response ID"),
        *("Recipient Last Name", "Recipient First Name", "Recipient Email"),
        *("External Data Reference", "Location Latitude", "Location Longitude"),
        *("Distribution Channel", "User Language"),
        *("Votre collectivité", "Type de collectivité"),
        *(f"{q['theme_code']} - {q['wording_fr']}" for q in questions),
    ]
    imports = [f'{{"ImportId":"{n}"}}' for n in names]
    with (folder / "export.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerows([names, wordings, imports])
        for number, response in enumerate(responses, start=1):
            done = finished[number - 1] if finished else "True"
            answer = (
                labels.get(int(response.answer), response.answer)
                if response.answer.isdigit()
                else response.answer
            )
            cells = {
                "StartDate": "2020-12-01 09:00:00",
                "EndDate": response.submitted,
                "Status": "IP Address",
                "IPAddress": f"203.0.113.{number}",
                "Progress": "100" if done in ("True", "1") else "40",
                "Duration (in seconds)": "1800",
                "Finished": done,
                "RecordedDate": response.submitted,
                "ResponseId": f"R_{number:015d}",
                "RecipientLastName": "Nom",
                "RecipientFirstName": "Prénom",
                "RecipientEmail": f"r{number}@example.org",
                "ExternalReference": "",
                "LocationLatitude": "44.8",
                "LocationLongitude": "-0.6",
                "DistributionChannel": "anonymous",
                "UserLanguage": "FR",
                "Q_collectivite": response.collectivity,
                "Q_type": response.type_code,
                **{i: answer for i in ids},
                **response.overrides,
            }
            writer.writerow([cells[h] for h in names])
    column_map = {qualtrics_id(q): q["question_code"] for q in questions}
    manifest = {
        **QUALTRICS_MANIFEST,
        "questions": {"by": "map", "map": column_map},
        **(manifest_overrides or {}),
    }
    (folder / "manifest.yml").write_text(
        yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8"
    )
    return folder
