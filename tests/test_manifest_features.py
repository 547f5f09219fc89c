"""Manifests for other survey tools (issue 9 §4): header blocks, column maps, completeness
rules, per-group answer encodings; all by configuration, on small factory-written exports."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from barometre.ingest.errors import IngestError
from barometre.ingest.load import load_edition
from tests.factories import (
    LIMESURVEY_MANIFEST,
    QUALTRICS_MANIFEST,
    SEEDS,
    Response,
    limesurvey_header,
    qualtrics_id,
    seed_level_labels,
    seed_questions,
    write_limesurvey,
    write_qualtrics,
)

QUESTIONS = seed_questions("2021")
N = len(QUESTIONS)
LABELS = seed_level_labels("2021")


def rows(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def qualtrics(tmp_path: Path, responses: list[Response], finished=None, **overrides) -> Path:
    return write_qualtrics(tmp_path / "raw" / "2021", responses, overrides, finished=finished)


def test_qualtrics_three_header_rows_map_and_unfinished_response(tmp_path: Path) -> None:
    first = qualtrics_id(QUESTIONS[0])
    folder = qualtrics(
        tmp_path,
        [
            Response("Bordeaux Métropole", "METRO", answer="4", overrides={first: "Non concerné"}),
            Response("Nantes Métropole", "METRO", answer="2", overrides={first: ""}),
            # Qualtrics fills EndDate even when the respondent stopped half-way:
            Response("Nîmes", "COM", answer="5", submitted="2020-12-04 10:00:00"),
        ],
        finished=["True", "1", "False"],
    )
    warehouse = tmp_path / "w.duckdb"
    load = load_edition(folder, warehouse, SEEDS)

    assert load.respondents == 2
    assert load.answer_states == {"answered": 2 * N - 2, "no_answer": 1, "not_concerned": 1}
    [file] = load.files
    # Data start on line 4: the three header rows (ids, wordings, ImportId) are skipped.
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined) == (3, 2, 1)
    assert rows(warehouse, "SELECT respondent_id, source_row FROM raw.responses ORDER BY 2") == [
        ("243300316", 4),
        ("244400404", 5),
    ]
    assert rows(
        warehouse, "SELECT source_row, column_name, value, check_name, reason FROM raw.quarantine"
    ) == [
        (
            6,
            "Finished",
            "False",
            "incomplete_response",
            "response not complete (completeness rule: Finished is one of ['True', '1']): "
            "incomplete responses are not loaded",
        )
    ]
    assert rows(
        warehouse,
        f"SELECT source_column, question_code, level FROM raw.answers "
        f"WHERE respondent_id = '243300316' AND source_column = '{qualtrics_id(QUESTIONS[1])}'",
    ) == [(qualtrics_id(QUESTIONS[1]), QUESTIONS[1]["question_code"], 4)]


def test_by_wording_reads_the_wording_row(tmp_path: Path) -> None:
    # Qualtrics' row 2 holds "T01 - <wording>": strip the prefix so that it is the seeds'
    # exact text, and map by wording (row 2) while columns are named by row 1 (Q1_1, …).
    folder = qualtrics(
        tmp_path, [Response("Bordeaux Métropole", "METRO", answer="3")], questions={"by": "wording"}
    )
    with (folder / "export.csv").open(encoding="utf-8-sig", newline="") as handle:
        table = list(csv.reader(handle))
    table[1] = [w.split(" - ", 1)[-1] for w in table[1]]
    with (folder / "export.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(table)
    load = load_edition(folder, tmp_path / "w.duckdb", SEEDS)
    assert load.respondents == 1 and load.answer_states == {"answered": N}


def test_by_wording_on_the_names_row_says_which_wording_did_not_match(tmp_path: Path) -> None:
    folder = qualtrics(
        tmp_path, [Response("Bordeaux Métropole", "METRO", answer="3")], questions={"by": "wording"}
    )
    with pytest.raises(IngestError) as caught:
        load_edition(folder, tmp_path / "w.duckdb", SEEDS, dry_run=True)
    assert caught.value.column == qualtrics_id(QUESTIONS[0])
    assert "its wording: 'T01 - " in caught.value.problem


def test_map_entries_are_checked_against_the_seeds_and_the_export(tmp_path: Path) -> None:
    column_map = {qualtrics_id(q): q["question_code"] for q in QUESTIONS}
    folder = qualtrics(
        tmp_path,
        [Response("Bordeaux Métropole", "METRO", answer="3")],
        questions={"by": "map", "map": {**column_map, "Q1_1": "T99_Q99"}},
    )
    with pytest.raises(IngestError, match=r"to question 'T99_Q99', which seeds/questions\.csv"):
        load_edition(folder, tmp_path / "w.duckdb", SEEDS, dry_run=True)

    folder = qualtrics(
        tmp_path,
        [Response("Bordeaux Métropole", "METRO", answer="3")],
        questions={"by": "map", "map": {k: v for k, v in column_map.items() if k != "Q1_1"}},
    )
    with pytest.raises(IngestError, match=r"is not in questions\.map") as caught:
        load_edition(folder, tmp_path / "w.duckdb", SEEDS, dry_run=True)
    assert caught.value.column == "Q1_1"


@pytest.mark.parametrize(
    ("rule", "kept_rows"),
    [
        ({"column": "Progress", "at_least": 100}, [4, 6]),
        ({"column": "Finished", "equals": ["true"]}, [4]),  # case ignored; "1" not listed
        ({"column": "EndDate", "not_empty": True}, [4, 5, 6]),
    ],
)
def test_completeness_rules(tmp_path: Path, rule: dict, kept_rows: list[int]) -> None:
    folder = qualtrics(
        tmp_path,
        [
            Response("Bordeaux Métropole", "METRO", answer="3"),
            Response("Nantes Métropole", "METRO", answer="3"),
            Response("Nîmes", "COM", answer="3"),
        ],
        finished=["True", "False", "1"],
        completeness=rule,
    )
    result = load_edition(folder, tmp_path / "w.duckdb", SEEDS, dry_run=True)
    loaded = sorted({4, 5, 6} - {e[1] for e in result.quarantine})
    assert loaded == kept_rows
    assert {e[4] for e in result.quarantine} <= {"incomplete_response"}
    assert all(e[2] == rule["column"] for e in result.quarantine)


def test_a_non_numeric_progress_is_incomplete_not_an_error(tmp_path: Path) -> None:
    folder = qualtrics(
        tmp_path,
        [Response("Bordeaux Métropole", "METRO", answer="3", overrides={"Progress": "n/a"})],
        completeness={"column": "Progress", "at_least": 100},
    )
    result = load_edition(folder, tmp_path / "w.duckdb", SEEDS, dry_run=True)
    assert [(e[2], e[3], e[4]) for e in result.quarantine] == [
        ("Progress", "n/a", "incomplete_response")
    ]


def test_the_completeness_column_must_be_in_the_export(tmp_path: Path) -> None:
    folder = qualtrics(
        tmp_path,
        [Response("Bordeaux Métropole", "METRO", answer="3")],
        completeness={"column": "Termine", "equals": ["True"]},
    )
    with pytest.raises(IngestError, match="column of the completeness rule is missing") as caught:
        load_edition(folder, tmp_path / "w.duckdb", SEEDS, dry_run=True)
    assert caught.value.column == "Termine"


def test_default_completeness_keeps_the_documented_reason(tmp_path: Path) -> None:
    folder = write_limesurvey(
        tmp_path / "raw" / "2021",
        [Response("Bordeaux Métropole", "METRO"), Response("Nîmes", "COM", submitted="")],
    )
    result = load_edition(folder, tmp_path / "w.duckdb", SEEDS, dry_run=True)
    assert [e[1:] for e in result.quarantine] == [
        (
            3,
            "submitdate",
            "",
            "incomplete_response",
            "response not submitted (empty submitdate): incomplete responses are not loaded",
        )
    ]


def test_answer_groups_decode_codes_and_labels_per_column(tmp_path: Path) -> None:
    # Theme T01 was exported with numeric codes, the rest with labels; the same cell
    # text "2" is a code in T01 and an unknown token elsewhere.
    t01 = [qualtrics_id(q) for q in QUESTIONS if q["theme_code"] == "T01"]
    t02 = [qualtrics_id(q) for q in QUESTIONS if q["theme_code"] == "T02"]
    cells = {**{c: "2" for c in t01}, **{c: "fait" for c in t02}}  # labels fold case
    groups = [
        {"pattern": r"Q1_\d+$", "encoding": "codes", "codes": {str(i): i for i in range(1, 7)}},
        {"columns": t02, "encoding": "labels", "labels": {"Fait": 6, "À faire": 1}},
    ]
    answers = {**QUALTRICS_MANIFEST["answers"], "groups": groups}
    folder = qualtrics(
        tmp_path,
        [Response("Bordeaux Métropole", "METRO", answer="5", overrides=cells)],
        answers=answers,
    )
    warehouse = tmp_path / "w.duckdb"
    load_edition(folder, warehouse, SEEDS)
    levels = dict(
        rows(
            warehouse,
            "SELECT left(question_code, 3), list(DISTINCT level) FROM raw.answers GROUP BY 1",
        )
    )
    assert levels["T01"] == [2] and levels["T02"] == [6] and levels["T03"] == [5]

    # "2" in a labels column is unknown: refused, the message listing that column's labels.
    qualtrics(
        tmp_path,
        [Response("Bordeaux Métropole", "METRO", answer="5", overrides={**cells, t02[0]: "2"})],
        answers=answers,
    )
    with pytest.raises(IngestError, match=r"expected \['Fait', 'À faire'\]") as caught:
        load_edition(folder, warehouse, SEEDS, dry_run=True)
    assert (caught.value.column, caught.value.value) == (t02[0], "2")


def test_explicit_labels_replace_the_seed_labels(tmp_path: Path) -> None:
    folder = qualtrics(
        tmp_path,
        [Response("Bordeaux Métropole", "METRO", answer="Niveau 4")],
        answers={
            **QUALTRICS_MANIFEST["answers"],
            "labels": {f"Niveau {i}": i for i in range(1, 7)},
        },
    )
    warehouse = tmp_path / "w.duckdb"
    load_edition(folder, warehouse, SEEDS)
    assert rows(warehouse, "SELECT DISTINCT level FROM raw.answers") == [(4,)]


def test_group_levels_outside_the_scale_are_refused(tmp_path: Path) -> None:
    group = {"columns": [limesurvey_header(QUESTIONS[0])], "encoding": "codes", "codes": {"X": 9}}
    folder = write_limesurvey(
        tmp_path / "raw" / "2021",
        [Response("Bordeaux Métropole", "METRO")],
        {"answers": {**LIMESURVEY_MANIFEST["answers"], "groups": [group]}},
    )
    with pytest.raises(IngestError, match=r"answers.groups\[0\].codes maps \{'X': 9\} outside"):
        load_edition(folder, tmp_path / "w.duckdb", SEEDS, dry_run=True)
