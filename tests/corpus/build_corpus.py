"""Write the corpus of malformed exports under tests/corpus/cases/ (deterministic).

Each case is a folder `<case>/<edition>/` (manifest + export, as a user would drop it)
and `<case>/expected.yml`, the exact outcome the ingester must give: either an error
(problem text, file, row, column, value) or a load with the listed quarantined rows.

    python tests/corpus/build_corpus.py      # rewrite every case
"""

from __future__ import annotations

import csv
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from barometre_dev.sample.writers import save_workbook  # noqa: E402
from tests.factories import (  # noqa: E402 - after the path fix for direct runs
    Response,
    limesurvey_header,
    seed_questions,
    write_limesurvey,
    write_surveymonkey,
)

CASES = Path(__file__).resolve().parent / "cases"
GOOD_CSV = [
    Response("Bordeaux Métropole", "METRO"),
    Response("Nantes Métropole", "METRO"),
    Response("Nîmes", "COM"),
]
GOOD_XLSX = [
    Response("MEL", submitted="03/02/2018 10:00:00 AM", answer="3"),
    Response("Grand Lyon", submitted="03/02/2018 11:00:00 AM", answer="4"),
    Response("Nantes Métropole", submitted="03/03/2018 10:00:00 AM", answer="2"),
]
Q1_CSV = limesurvey_header(seed_questions("2021")[0])
Q1_XLSX = seed_questions("2018")[0]["wording_fr"]

Builder = Callable[[Path], dict]


def _csv(case: Path, responses=GOOD_CSV, **manifest) -> Path:
    return write_limesurvey(case / "2021", responses, manifest or None) / "export.csv"


def _xlsx(case: Path, responses=GOOD_XLSX, **manifest) -> Path:
    return write_surveymonkey(case / "2018", responses, manifest or None) / "export.xlsx"


def _rewrite_csv(path: Path, edit: Callable[[list[list[str]]], list[list[str]]]) -> None:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(
            edit(rows)
        )


def _rewrite_xlsx(path: Path, edit: Callable[[list[list]], list[list]]) -> None:
    import openpyxl

    book = openpyxl.load_workbook(path)
    rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    fresh = openpyxl.Workbook()
    for row in edit(rows):
        fresh.active.append(row)
    save_workbook(fresh, path)


def error(
    problem: str,
    file: str,
    row: int | None = None,
    column: str | None = None,
    value: str | None = None,
) -> dict:
    return {
        "outcome": "error",
        "error": {
            "problem_contains": problem,
            "file": file,
            "row": row,
            "column": column,
            "value": value,
        },
    }


def loaded(quarantine: list[dict], max_bad_share: float = 1.0) -> dict:
    return {"outcome": "loaded", "max_bad_share": max_bad_share, "quarantine": quarantine}


# --- whole-file problems ---------------------------------------------------------------


def csv_wrong_encoding(case: Path) -> dict:
    path = _csv(case)
    path.write_bytes(path.read_bytes().decode("utf-8-sig").encode("latin-1"))
    return error("not readable as utf-8", "export.csv", row=1)


def xlsx_not_a_workbook(case: Path) -> dict:
    path = _xlsx(case)
    path.write_bytes("Collectivité;Réponse\nMEL;3\n".encode("latin-1"))
    return error("not a readable XLSX workbook", "export.xlsx")


def csv_wrong_delimiter(case: Path) -> dict:
    path = _csv(case)
    _rewrite_csv(path, lambda rows: rows)
    path.write_text(
        path.read_text(encoding="utf-8-sig").replace('";"', '","'), encoding="utf-8-sig"
    )
    return error("delimiter is probably not ';'", "export.csv", row=1)


def xlsx_wrong_sheet(case: Path) -> dict:
    _xlsx(case, sheet="Réponses")
    return error("no sheet named 'Réponses'", "export.xlsx")


def csv_empty(case: Path) -> dict:
    _csv(case).write_bytes(b"")
    return error("the file is empty (0 bytes)", "export.csv")


def xlsx_empty(case: Path) -> dict:
    _rewrite_xlsx(_xlsx(case), lambda rows: [])
    return error("the file is empty: no header row", "export.xlsx")


def csv_header_only(case: Path) -> dict:
    _rewrite_csv(_csv(case), lambda rows: rows[:1])
    return error("header but no data row", "export.csv")


def xlsx_header_only(case: Path) -> dict:
    _rewrite_xlsx(_xlsx(case), lambda rows: rows[:2])
    return error("header but no data row", "export.xlsx")


def _drop_column(name: str) -> Callable[[list[list]], list[list]]:
    def edit(rows: list[list]) -> list[list]:
        index = rows[0].index(name)
        return [r[:index] + r[index + 1 :] for r in rows]

    return edit


def csv_missing_respondent_column(case: Path) -> dict:
    _rewrite_csv(_csv(case), _drop_column("submitdate"))
    return error(
        "column for respondent field 'submitted_at' is missing",
        "export.csv",
        row=1,
        column="submitdate",
    )


def xlsx_missing_personal_column(case: Path) -> dict:
    _rewrite_xlsx(_xlsx(case), _drop_column("Email Address"))
    return error(
        "declared in manifest.yml is missing", "export.xlsx", row=1, column="Email Address"
    )


def csv_missing_question_column(case: Path) -> dict:
    _rewrite_csv(_csv(case), _drop_column(Q1_CSV))
    code = seed_questions("2021")[0]["question_code"]
    return error(f"no column for question(s) {code}", "export.csv", row=1)


def _duplicate_column(name: str) -> Callable[[list[list]], list[list]]:
    def edit(rows: list[list]) -> list[list]:
        index = rows[0].index(name)
        return [[*r, r[index]] for r in rows]

    return edit


def csv_duplicated_column(case: Path) -> dict:
    _rewrite_csv(_csv(case), _duplicate_column("Collectivité"))
    return error("column header appears twice", "export.csv", row=1, column="Collectivité")


def xlsx_duplicated_column(case: Path) -> dict:
    _rewrite_xlsx(_xlsx(case), _duplicate_column(Q1_XLSX))
    return error("column header appears twice", "export.xlsx", row=1, column=Q1_XLSX)


def csv_unmapped_question(case: Path) -> dict:
    _rewrite_csv(
        _csv(case), lambda rows: [rows[0] + ["T11[SQ001]"]] + [[*r, "A3"] for r in rows[1:]]
    )
    return error(
        "matches no question of the edition through questions.pattern",
        "export.csv",
        row=1,
        column="T11[SQ001]",
    )


def xlsx_unmapped_question(case: Path) -> dict:
    extra = "Nous disposons d'un observatoire du numérique."
    _rewrite_xlsx(
        _xlsx(case),
        lambda rows: [rows[0] + [extra], rows[1] + ["Response"]] + [[*r, None] for r in rows[2:]],
    )
    return error("matches no question wording of the edition", "export.xlsx", row=1, column=extra)


def csv_unknown_answer_code(case: Path) -> dict:
    _csv(
        case,
        [GOOD_CSV[0], Response("Nantes Métropole", "METRO", overrides={Q1_CSV: "A7"}), GOOD_CSV[2]],
    )
    return error("answer not known to the manifest", "export.csv", row=3, column=Q1_CSV, value="A7")


def xlsx_unknown_answer_label(case: Path) -> dict:
    _xlsx(
        case,
        [
            GOOD_XLSX[0],
            GOOD_XLSX[1],
            Response(
                "Nantes Métropole",
                submitted="03/03/2018 10:00:00 AM",
                answer="2",
                overrides={Q1_XLSX: "Peut-être"},
            ),
        ],
    )
    return error(
        "answer not known to the manifest", "export.xlsx", row=5, column=Q1_XLSX, value="Peut-être"
    )


def csv_truncated_last_line(case: Path) -> dict:
    path = _csv(case)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) - 120])
    return error("truncated", "export.csv")


def xlsx_truncated_file(case: Path) -> dict:
    path = _xlsx(case)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    return error("not a readable XLSX workbook", "export.xlsx")


def csv_manifest_codes_outside_scale(case: Path) -> dict:
    codes = {f"A{i}": i for i in range(1, 8)}
    _csv(
        case,
        answers={"encoding": "codes", "codes": codes, "not_concerned": ["NC"], "no_answer": [""]},
    )
    return error("outside the edition's scale 1..6", "manifest.yml")


def xlsx_manifest_edition_mismatch(case: Path) -> dict:
    _xlsx(case, edition="2019")
    return error("edition '2019' does not match the folder name '2018'", "manifest.yml")


# --- rows quarantined, the rest loaded -----------------------------------------------------


def csv_row_rules(case: Path) -> dict:
    _csv(
        case,
        [
            Response("Bordeaux Métropole", "METRO"),
            Response("Nantes Métropole", "EPT"),  # row 3: type
            Response("Nowhere-sur-Mer", "COM"),  # row 4: unknown
            Response("Nîmes", "COM", submitted="01/12/2020"),  # row 5: timestamp
            Response("MEL", "METRO", submitted=""),  # row 6: incomplete
            Response("Grand Lyon", "MET69", submitted="2020-12-01 09:00:00"),  # row 7: older
            Response("Métropole de Lyon", "MET69"),  # row 8: kept
            Response('=HYPERLINK("http://x.example","clic")', "COM"),  # row 9: formula, unknown
        ],
    )
    return loaded(
        [
            {
                "row": 3,
                "column": "Type de collectivité",
                "value": "EPT",
                "check": "type_not_accepted",
            },
            {
                "row": 4,
                "column": "Collectivité",
                "value": "Nowhere-sur-Mer",
                "check": "unknown_collectivity",
            },
            {
                "row": 5,
                "column": "submitdate",
                "value": "01/12/2020",
                "check": "unreadable_timestamp",
            },
            {"row": 6, "column": "submitdate", "value": "", "check": "incomplete_response"},
            {
                "row": 7,
                "column": "Collectivité",
                "value": "Grand Lyon",
                "check": "duplicate_submission",
            },
            {
                "row": 9,
                "column": "Collectivité",
                "value": '=HYPERLINK("http://x.example","clic")',
                "check": "unknown_collectivity",
            },
        ]
    )


def xlsx_row_rules(case: Path) -> dict:
    path = _xlsx(
        case,
        [
            Response("MEL", submitted="03/02/2018 10:00:00 AM", answer="3"),
            Response("Saint-Denis", submitted="03/02/2018 10:00:00 AM", answer="3"),  # ambiguous
            Response("Grand Lyon", submitted="03/02/2018 10:00:00 AM", answer="3"),  # id cleared
            Response("Nantes Métropole", submitted="", answer="3"),  # incomplete
            Response("@SUM(1+1)", submitted="03/02/2018 10:00:00 AM", answer="3"),  # formula
        ],
    )

    def clear_id(rows: list[list]) -> list[list]:
        rows[4][0] = None
        return rows

    _rewrite_xlsx(path, clear_id)
    return loaded(
        [
            {
                "row": 4,
                "column": "Custom Data 1",
                "value": "Saint-Denis",
                "check": "ambiguous_collectivity",
            },
            {"row": 5, "column": "Respondent ID", "value": "", "check": "missing_response_id"},
            {"row": 6, "column": "End Date", "value": "", "check": "incomplete_response"},
            {
                "row": 7,
                "column": "Custom Data 1",
                "value": "@SUM(1+1)",
                "check": "unknown_collectivity",
            },
        ]
    )


def csv_duplicate_response_id(case: Path) -> dict:
    path = _csv(case)

    def same_id(rows: list[list]) -> list[list]:
        rows[3][0] = rows[2][0]
        return rows

    _rewrite_csv(path, same_id)
    return loaded(
        [
            {"row": 3, "column": "id", "value": "2", "check": "duplicate_response_id"},
            {"row": 4, "column": "id", "value": "2", "check": "duplicate_response_id"},
        ]
    )


def csv_too_many_bad_rows(case: Path) -> dict:
    _csv(case, [*GOOD_CSV, Response("Nowhere-sur-Mer", "COM")])
    result = error(
        "1 of 4 rows (25.0%) break the row contract (unknown_collectivity), above the 5% allowed",
        "2021",
    )
    result["max_bad_share"] = 0.05
    return result


BUILDERS: dict[str, Builder] = {
    f.__name__: f
    for f in (
        csv_wrong_encoding,
        xlsx_not_a_workbook,
        csv_wrong_delimiter,
        xlsx_wrong_sheet,
        csv_empty,
        xlsx_empty,
        csv_header_only,
        xlsx_header_only,
        csv_missing_respondent_column,
        xlsx_missing_personal_column,
        csv_missing_question_column,
        csv_duplicated_column,
        xlsx_duplicated_column,
        csv_unmapped_question,
        xlsx_unmapped_question,
        csv_unknown_answer_code,
        xlsx_unknown_answer_label,
        csv_truncated_last_line,
        xlsx_truncated_file,
        csv_manifest_codes_outside_scale,
        xlsx_manifest_edition_mismatch,
        csv_row_rules,
        xlsx_row_rules,
        csv_duplicate_response_id,
        csv_too_many_bad_rows,
    )
}


def build(target: Path = CASES) -> list[str]:
    """Rewrite every case folder; return the case names."""
    if target.exists():
        shutil.rmtree(target)
    for name, builder in BUILDERS.items():
        case = target / name
        expected = builder(case)
        expected["description"] = builder.__doc__ or name.replace("_", " ")
        (case / "expected.yml").write_text(
            yaml.safe_dump(expected, allow_unicode=True, sort_keys=True), encoding="utf-8"
        )
    return list(BUILDERS)


if __name__ == "__main__":
    names = build()
    print(f"{len(names)} cases written under {CASES}")
