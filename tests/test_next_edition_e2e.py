"""End to end: a third edition shaped like the real 2023 one, in every survey-tool layout.

The 2023 shape (issue 9): communautés de communes admitted (a CC respondent resolves
through the shipped reference), e-Education (2021 T03) dropped, "Numérique responsable"
and "Coopération territoriale" added as themes, half the themes crosswalked to 2021
(identical wordings, 2021 keys kept), the other questions keyed `<edition>_<code>`.

One warehouse holds the sample (2018, 2021) and the same 2023 answers five times, once
per layout, as editions 2023a…2023e (same year, edition numbers 3…7): each folder is made
by `new-edition --layout`, its manifest's TODOs filled, its export written in the tool's
real shape, and `barometre validate` must say OK. Then one ingestion per edition and one
`dbt build` on a copy of the project; the marts are checked against figures computed
here from the generated answers, and the five layouts (CSV and XLSX) give identical marts.
(A broken crosswalk refused by validate, not dbt: tests/test_onboarding.py.)
"""

from __future__ import annotations

import csv
import hashlib
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from statistics import fmean

import duckdb
import pytest
import yaml

from barometre.common.settings import PROJECT_ROOT
from barometre.ingest.load import load_edition
from barometre.ingest.new_edition import create_edition, new_question_key
from barometre_dev.sample.writers import LIMESURVEY_COLUMNS, SURVEYMONKEY_COLUMNS, save_workbook
from tests.factories import QUALTRICS_COLUMNS
from tests.project_copy import (
    append_rows,
    dbt_build_copy,
    read_rows,
    seeds_copy,
    temp_settings,
)

LAYOUTS = {
    "2023a": "limesurvey_csv",
    "2023b": "surveymonkey_xlsx",
    "2023c": "qualtrics_csv",
    "2023d": "google_forms_csv",
    "2023e": "microsoft_forms_xlsx",
}
CC_NAME, CC_SIREN = "CC Faucigny - Glières", "200000172"
RESPONDENTS = [
    ("Bordeaux Métropole", "METRO"),
    ("Saint-Étienne Métropole", "METRO"),
    ("Metz Métropole", "METRO"),
    ("Reims", "COM"),
    ("Lyon", "COM"),
    ("Paris", "COM"),
    ("Limoges", "COM"),
    ("CU Grand Besançon Métropole", "CU"),
    ("CA Saint-Brieuc Armor Agglomération", "CA"),
    ("CA de Saint Quentin en Yvelines", "CA"),
    ("CU Grand Paris Seine et Oise", "CU"),
    (CC_NAME, "CC"),
]
UNFINISHED = ("Nantes Métropole", "METRO")
"""Qualtrics only: a response left unfinished (Finished=False, EndDate filled)."""
CROSSWALKED = {"T01": "T01", "T02": "T02", "T03": "T04", "T04": "T05", "T05": "T06"}
"""2023 theme → the 2021 theme whose first questions it takes over word for word."""
REWORDED = {"T06": "T07", "T07": "T08", "T08": "T09", "T09": "T10"}
"""2023 theme → the 2021 theme it continues with new wordings (new keys)."""
NEW_THEMES = {"T10": ("Numérique responsable", "RESP"), "T11": ("Coopération territoriale", "COOP")}
NOT_CONCERNED, NO_ANSWER = "NC", ""


# ------------------------------------------------------------------ the seeds rows


def _seed_rows(seeds: Path, edition: str, number: int) -> list[dict[str, str]]:
    """Append the 2023-shaped rows of `edition` to the seeds; its questions (seed rows
    with their question_key), ordered by theme and order."""
    themes21 = {
        r["theme_code"]: r for r in read_rows(seeds / "themes.csv") if r["edition_code"] == "2021"
    }
    questions21 = [r for r in read_rows(seeds / "questions.csv") if r["edition_code"] == "2021"]
    keys21 = {
        r["question_code"]: r["question_key"]
        for r in read_rows(seeds / "question_crosswalk.csv")
        if r["edition_code"] == "2021"
    }
    themes, questions = [], []
    for code, old in {**CROSSWALKED, **REWORDED}.items():
        themes.append({**themes21[old], "edition_code": edition, "theme_code": code})
    for code, (label, _) in NEW_THEMES.items():
        themes.append(
            {
                "edition_code": edition,
                "theme_code": code,
                "label_fr": label,
                "description_fr": f"{label} (thème ajouté en 2023).",
            }
        )
    for number_in, theme in enumerate(themes, start=1):
        theme["theme_number"] = str(number_in)

    def question(theme: str, order: int, wording: str, key: str | None, status: str) -> dict:
        code = f"{theme}_Q{order:02d}"
        return {
            "edition_code": edition,
            "question_code": code,
            "theme_code": theme,
            "order_in_theme": str(order),
            "wording_fr": wording,
            "wording_status": status,
            "source_note": "end-to-end test edition",
            "question_key": key or new_question_key(edition, code),
        }

    for theme, old in CROSSWALKED.items():
        kept = sorted(
            (q for q in questions21 if q["theme_code"] == old),
            key=lambda q: int(q["order_in_theme"]),
        )[:3]
        for order, q in enumerate(kept, start=1):
            questions.append(
                question(
                    theme, order, q["wording_fr"], keys21[q["question_code"]], q["wording_status"]
                )
            )
    questions.append(
        question(
            "T01",
            4,
            "Nous évaluons chaque année l'atteinte des objectifs de notre stratégie numérique.",
            None,
            "published",
        )
    )
    for theme, old in REWORDED.items():
        label = themes21[old]["label_fr"]
        for order in (1, 2):
            questions.append(
                question(
                    theme,
                    order,
                    f"{label} : proposition {order} reformulée en 2023.",
                    None,
                    "published",
                )
            )
    for theme, (label, _) in NEW_THEMES.items():
        for order in (1, 2, 3):
            questions.append(
                question(
                    theme,
                    order,
                    f"{label} : la collectivité a engagé l'action {order}.",
                    None,
                    "published",
                )
            )

    append_rows(
        seeds / "editions.csv",
        [
            {
                "edition_code": edition,
                "edition_year": "2023",
                "edition_number": str(number),
                "field_start": "2022-11-01",
                "field_end": "2023-03-31",
                "scale_size": "6",
                "theme_count": str(len(themes)),
                "label_fr": f"Baromètre 2023 (test, {LAYOUTS[edition]})",
            }
        ],
    )
    append_rows(
        seeds / "scale_levels.csv",
        [
            {**r, "edition_code": edition}
            for r in read_rows(seeds / "scale_levels.csv")
            if r["edition_code"] == "2021"
        ],
    )
    append_rows(seeds / "themes.csv", themes)
    append_rows(
        seeds / "questions.csv",
        [{k: v for k, v in q.items() if k != "question_key"} for q in questions],
    )
    append_rows(
        seeds / "question_crosswalk.csv",
        [
            {
                "question_key": q["question_key"],
                "edition_code": edition,
                "question_code": q["question_code"],
                "comparable_reason": "",
            }
            for q in questions
        ],
    )
    append_rows(
        seeds / "question_transverse_themes.csv",
        [
            {"edition_code": edition, "question_code": q["question_code"], "transverse_code": tag}
            for q in questions
            for theme, (_, tag) in NEW_THEMES.items()
            if q["theme_code"] == theme
        ],
    )
    return questions


# ------------------------------------------------------------------ the answers


def _answers(questions: list[dict]) -> list[dict[str, str | int]]:
    """Respondent i → question_code → level (int), NOT_CONCERNED or NO_ANSWER."""
    rng = random.Random(2023)
    grid = []
    for _ in RESPONDENTS:
        row: dict[str, str | int] = {}
        for q in questions:
            draw = rng.random()
            row[q["question_code"]] = (
                NOT_CONCERNED if draw < 0.08 else NO_ANSWER if draw < 0.13 else rng.randint(1, 6)
            )
        grid.append(row)
    return grid


# ------------------------------------------------------------------ the exports


def _label(cell: str | int, labels: dict[int, str], nc: str) -> str:
    if cell == NOT_CONCERNED:
        return nc
    return labels[cell] if isinstance(cell, int) else ""


def _times(i: int) -> tuple[datetime, datetime]:
    start = datetime(2023, 2, 1, 9, 0, 0) + timedelta(days=i, minutes=7 * i)
    return start, start + timedelta(minutes=35, seconds=i)


def _write_csv(
    path: Path, rows: list[list[str]], encoding: str, delimiter: str, quote_all: bool
) -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(
            handle,
            delimiter=delimiter,
            quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
            lineterminator="\r\n",
        ).writerows(rows)


def _write_xlsx(path: Path, rows: list[list]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append([None if c == "" else c for c in row])
    save_workbook(book, path)


def _export(
    folder: Path, layout: str, questions: list[dict], grid: list[dict], labels: dict[int, str]
) -> tuple[str, dict]:
    """Write the export of `layout` in `folder`; its file name and the manifest values
    that fill the template's TODOs."""
    codes = [q["question_code"] for q in questions]
    wordings = [q["wording_fr"] for q in questions]
    if layout == "limesurvey_csv":
        heads = [f"{q['theme_code']}[SQ{int(q['order_in_theme']):03d}]" for q in questions]
        rows = [[*LIMESURVEY_COLUMNS, *heads]]
        for i, ((name, type_code), answers) in enumerate(zip(RESPONDENTS, grid, strict=True), 1):
            start, end = _times(i)
            cells = [
                str(i),
                f"{end:%Y-%m-%d %H:%M:%S}",
                "12",
                "fr",
                f"{start:%Y-%m-%d %H:%M:%S}",
                f"{end:%Y-%m-%d %H:%M:%S}",
                f"192.0.2.{i}",
                f"tok{i:04d}",
                name,
                type_code,
                f"contact{i}@example.org",
            ]
            answer = {NOT_CONCERNED: "NC", NO_ANSWER: ""}
            rows.append([*cells, *(answer.get(answers[c], f"A{answers[c]}") for c in codes)])
        name = "survey_2023_limesurvey.csv"
        _write_csv(folder / name, rows, "utf-8-sig", ";", quote_all=True)
        return name, {}
    if layout == "surveymonkey_xlsx":
        meta = list(SURVEYMONKEY_COLUMNS)
        rows = [[*meta, *wordings], [""] * len(meta) + ["Response"] * len(wordings)]
        for i, ((name, _), answers) in enumerate(zip(RESPONDENTS, grid, strict=True), 1):
            start, end = _times(i)
            rows.append(
                [
                    str(114000 + i),
                    "42",
                    f"{start:%m/%d/%Y %I:%M:%S %p}",
                    f"{end:%m/%d/%Y %I:%M:%S %p}",
                    f"198.51.100.{i}",
                    f"p{i}@example.org",
                    "Prénom",
                    "Nom",
                    name,
                    *(_label(answers[c], labels, "Non concerné") for c in codes),
                ]
            )
        name = "Barometre_2023_SurveyMonkey.xlsx"
        _write_xlsx(folder / name, rows)
        return name, {}
    if layout == "qualtrics_csv":
        ids = [f"Q{int(q['theme_code'][1:])}_{int(q['order_in_theme'])}" for q in questions]
        meta = [c for c in QUALTRICS_COLUMNS if c != "Q_type"]
        texts = [
            "Start Date",
            "End Date",
            "Response Type",
            "IP Address",
            "Progress",
            "Duration (in seconds)",
            "Finished",
            "Recorded Date",
            "Response ID",
            "Recipient Last Name",
            "Recipient First Name",
            "Recipient Email",
            "External Data Reference",
            "Location Latitude",
            "Location Longitude",
            "Distribution Channel",
            "User Language",
            "Votre collectivité",
        ]
        rows = [
            [*meta, *ids],
            [*texts, *(f"{q['theme_code']} - {q['wording_fr']}" for q in questions)],
            [f'{{"ImportId":"{c}"}}' for c in [*meta, *ids]],
        ]
        people = [*zip(RESPONDENTS, grid, strict=True), (UNFINISHED, grid[0])]
        for i, ((name, _), answers) in enumerate(people, 1):
            start, end = _times(i)
            done = i <= len(RESPONDENTS)
            rows.append(
                [
                    f"{start:%Y-%m-%d %H:%M:%S}",
                    f"{end:%Y-%m-%d %H:%M:%S}",
                    "IP Address",
                    f"203.0.113.{i}",
                    "100" if done else "40",
                    "2112",
                    str(done),
                    f"{end:%Y-%m-%d %H:%M:%S}",
                    f"R_{i:015d}",
                    "",
                    "",
                    "",
                    "",
                    "44.8",
                    "-0.6",
                    "anonymous",
                    "FR",
                    name,
                    *(_label(answers[c], labels, "Non concerné") for c in codes),
                ]
            )
        name = "Barometre_2023_Qualtrics.csv"
        _write_csv(folder / name, rows, "utf-8-sig", ",", quote_all=False)
        return name, {
            "respondent": {"collectivity": "Q_collectivite"},
            "questions": {"by": "map", "map": dict(zip(ids, codes, strict=True))},
        }
    if layout == "google_forms_csv":
        rows = [["Horodateur", "Adresse e-mail", "Votre collectivité", *wordings]]
        for i, ((name, _), answers) in enumerate(zip(RESPONDENTS, grid, strict=True), 1):
            _, end = _times(i)
            rows.append(
                [
                    f"{end:%d/%m/%Y %H:%M:%S}",
                    f"agent{i}@example.org",
                    name,
                    *(_label(answers[c], labels, "Non concerné") for c in codes),
                ]
            )
        name = "Baromètre 2023 (réponses).csv"
        _write_csv(folder / name, rows, "utf-8", ",", quote_all=False)
        return name, {"respondent": {"collectivity": "Votre collectivité"}}
    assert layout == "microsoft_forms_xlsx"
    meta = [
        "ID",
        "Heure de début",
        "Heure de fin",
        "Adresse de messagerie",
        "Nom",
        "Heure de la dernière modification",
        "Votre collectivité",
    ]
    rows = [[*meta, *wordings]]
    for i, ((name, _), answers) in enumerate(zip(RESPONDENTS, grid, strict=True), 1):
        start, end = _times(i)
        rows.append(
            [
                i,
                start,
                end,
                "anonymous",
                "",
                "",
                name,
                *(_label(answers[c], labels, "Non concerné") for c in codes),
            ]
        )
    name = "Baromètre 2023(1-12).xlsx"
    _write_xlsx(folder / name, rows)
    return name, {"respondent": {"collectivity": "Votre collectivité"}}


def _fill_manifest(folder: Path, file_name: str, fills: dict) -> None:
    """The template written by new-edition, its TODOs replaced by the export's values."""
    path = folder / "manifest.yml"
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    manifest["files"] = [file_name]
    for section, values in fills.items():
        if isinstance(values, dict) and section != "questions":
            manifest[section] = {**manifest[section], **values}
        else:
            manifest[section] = values
    text = yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False)
    assert "TODO" not in text, text
    path.write_text(text, encoding="utf-8")


# ------------------------------------------------------------------ expected figures


def _expected_theme_means(questions: list[dict], grid: list[dict]) -> dict[str, tuple[int, float]]:
    """Theme → (respondents answering at least one of its questions, mean of their means)."""
    out = {}
    for theme in sorted({q["theme_code"] for q in questions}):
        codes = [q["question_code"] for q in questions if q["theme_code"] == theme]
        means = [
            fmean(levels)
            for answers in grid
            if (levels := [answers[c] for c in codes if isinstance(answers[c], int)])
        ]
        out[theme] = (len(means), fmean(means))
    return out


@pytest.mark.slow
def test_a_2023_shaped_edition_in_every_layout_validates_runs_and_matches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from barometre.serve import cli
    from barometre.serve.cli import validate
    from barometre.validate import seed_checks

    seeds = seeds_copy(tmp_path)
    settings = temp_settings(tmp_path, seeds)
    questions = {}
    for number, edition in enumerate(LAYOUTS, start=3):
        questions[edition] = _seed_rows(seeds, edition, number)
    levels = {
        int(r["level"]): r["label_fr"]
        for r in read_rows(seeds / "scale_levels.csv")
        if r["edition_code"] == "2023a"
    }
    grid = _answers(questions["2023a"])
    assert all([q["question_code"] for q in questions[e]] == list(grid[0]) for e in LAYOUTS), (
        "one answer grid serves every layout"
    )

    # the seed checks read the seeds only, identical for the five validations: run once
    real_checks, cache = seed_checks.run_seed_checks, {}

    def checks_once(seeds_dir, dbt_project_dir=None):
        digest = hashlib.sha256(
            b"".join(p.read_bytes() for p in sorted(Path(seeds_dir).glob("*.csv")))
        ).hexdigest()
        if digest not in cache:
            cache[digest] = real_checks(seeds_dir, dbt_project_dir)
        return cache[digest]

    monkeypatch.setattr(seed_checks, "run_seed_checks", checks_once)
    monkeypatch.setattr(validate, "get_settings", lambda: settings)

    for edition, layout in LAYOUTS.items():
        create_edition(settings.data_dir, seeds, edition, layout)
        folder = settings.data_dir / edition
        shutil.rmtree(folder / "seed_stubs", ignore_errors=True)  # the seeds hold the rows
        file_name, fills = _export(folder, layout, questions[edition], grid, levels)
        _fill_manifest(folder, file_name, fills)
        code = cli.main(["validate", str(folder)])
        out = capsys.readouterr()
        assert code == 0, (layout, out.out, out.err)
        assert f"OK: edition {edition} would load {len(RESPONDENTS)} respondents." in out.out
        if layout == "qualtrics_csv":
            n = len(RESPONDENTS)
            assert f"{n + 1} rows read = {n} would be loaded + 1 quarantined" in out.out
            assert "[incomplete_response]" in out.out
    assert len(cache) == 1

    # ingest: the sample, then the five editions; one dbt build
    warehouse = settings.warehouse
    for edition in ("2018", "2021"):
        load_edition(PROJECT_ROOT / "data" / "raw" / edition, warehouse, seeds)
    for edition, layout in LAYOUTS.items():
        result = load_edition(settings.data_dir / edition, warehouse, seeds)
        # Qualtrics: the unfinished response (EndDate filled) is quarantined, not loaded
        assert result.quarantine_checks == (
            {"incomplete_response": 1} if layout == "qualtrics_csv" else {}
        ), layout
    done = dbt_build_copy(tmp_path, seeds, warehouse)
    assert done.returncode == 0, done.stdout + done.stderr

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        _check_marts(con, questions, grid)
        _check_layouts_agree(con)
    finally:
        con.close()


def _check_marts(con: duckdb.DuckDBPyConnection, questions: dict, grid: list[dict]) -> None:
    for edition in LAYOUTS:
        qs = questions[edition]
        # the CC respondent is classified through the shipped reference
        assert con.execute(
            "select type_code, report_group from core.dim_respondent_editions "
            "where edition_code = ? and respondent_id = ?",
            [edition, CC_SIREN],
        ).fetchone() == ("CC", "AGGLOS_CU")
        (n,) = con.execute(
            "select count(*) from core.dim_respondent_editions where edition_code = ?", [edition]
        ).fetchone()
        assert n == len(RESPONDENTS)

        # theme maturity, segment ALL: every theme, e-Education absent, the new ones present
        got = {
            r[0]: r[1:]
            for r in con.execute(
                "select theme_code, theme_label_fr, n_respondents, mean_maturity, is_suppressed "
                "from marts.mart_theme_maturity where edition_code = ? and segment_type = 'ALL'",
                [edition],
            ).fetchall()
        }
        expected = _expected_theme_means(qs, grid)
        assert set(got) == set(expected)
        assert "e-Education" not in {g[0] for g in got.values()}
        assert {got["T10"][0], got["T11"][0]} == {
            "Numérique responsable",
            "Coopération territoriale",
        }
        for theme, (n_resp, mean) in expected.items():
            _, n_got, mean_got, suppressed = got[theme]
            assert (n_got, suppressed) == (n_resp, False), (edition, theme)
            assert mean_got == pytest.approx(mean, abs=1e-9), (edition, theme)

        # the distribution of the new question keyed by the convention
        new = next(q for q in qs if q["theme_code"] == "T01" and q["order_in_theme"] == "4")
        assert new["question_key"] == f"{edition}_T01_Q04"
        cells = [a[new["question_code"]] for a in grid]
        answered = [c for c in cells if isinstance(c, int)]
        row = con.execute(
            "select question_key, n_respondents, n_answering, n_not_concerned, n_no_answer, "
            "share_level_1, share_level_2, share_level_3, share_level_4, share_level_5, "
            "share_level_6, mean_level from marts.mart_question_distribution "
            "where edition_code = ? and question_code = ?",
            [edition, new["question_code"]],
        ).fetchone()
        assert row[:5] == (
            new["question_key"],
            len(cells),
            len(answered),
            cells.count(NOT_CONCERNED),
            cells.count(NO_ANSWER),
        )
        assert row[5:11] == pytest.approx(
            [answered.count(lv) / len(answered) for lv in range(1, 7)]
        )
        assert row[11] == pytest.approx(fmean(answered))

        # the comparison 2021 → edition: exactly the crosswalked questions
        crosswalked = {
            q["question_key"]: q for q in qs if not q["question_key"].startswith(edition)
        }
        assert len(crosswalked) == 3 * len(CROSSWALKED)
        rows = con.execute(
            "select subject_code, question_code_from, question_code_to, n_respondents_to, "
            "share_ge_4_to, mean_harmonised_to, is_suppressed, mean_harmonised_from "
            "from marts.mart_edition_comparison where edition_code_from = '2021' "
            "and edition_code_to = ? and comparison_level = 'QUESTION' and panel_code = 'ALL'",
            [edition],
        ).fetchall()
        assert {r[0] for r in rows} == set(crosswalked)
        from21 = dict(
            con.execute(
                "select question_code, mean_level_harmonised from marts.mart_question_distribution "
                "where edition_code = '2021'"
            ).fetchall()
        )
        for key, code_from, code_to, n_to, share_to, mean_to, suppressed, mean_from in rows:
            q = crosswalked[key]
            assert code_to == q["question_code"] and code_from == key  # 2021 keys are its codes
            assert q["theme_code"] in CROSSWALKED and code_from.startswith(
                CROSSWALKED[q["theme_code"]]
            )
            levels = [a[code_to] for a in grid if isinstance(a[code_to], int)]
            assert n_to == len(levels)
            if suppressed:
                assert len(levels) < 5 or from21[code_from] is None
                continue
            assert share_to == pytest.approx(sum(lv >= 4 for lv in levels) / len(levels))
            assert mean_to == pytest.approx(fmean(min(lv, 5) for lv in levels))
            assert mean_from == pytest.approx(from21[code_from])
        # theme level: the perimeter questions of each crosswalked theme
        themes = con.execute(
            "select subject_code, n_perimeter_questions, n_respondents_to, mean_harmonised_to, "
            "is_suppressed from marts.mart_edition_comparison where edition_code_from = '2021' "
            "and edition_code_to = ? and comparison_level = 'THEME' and panel_code = 'ALL'",
            [edition],
        ).fetchall()
        assert {t[0] for t in themes} == set(CROSSWALKED)
        for theme, n_q, n_to, mean_to, suppressed in themes:
            codes = [q["question_code"] for q in crosswalked.values() if q["theme_code"] == theme]
            means = [
                fmean(min(a[c], 5) for c in codes if isinstance(a[c], int))
                for a in grid
                if any(isinstance(a[c], int) for c in codes)
            ]
            assert (n_q, n_to) == (len(codes), len(means))
            if not suppressed:
                assert mean_to == pytest.approx(fmean(means))


def _mart_rows(con: duckdb.DuckDBPyConnection, mart: str, edition: str) -> list[tuple]:
    """Every row of `mart` for `edition` (comparisons: from 2018/2021 to it), the
    edition's code in text columns (edition codes, keys `<edition>_<code>`) made `X`,
    sorted."""
    columns = [(r[0], r[1]) for r in con.execute(f"describe {mart}").fetchall()]
    names = [c for c, _ in columns]
    if "edition_code_to" in names:
        where = "edition_code_to = $e and edition_code_from in ('2018', '2021')"
    else:
        where = "edition_code = $e"
    shown = ", ".join(f"replace({c}, $e, 'X')" if kind == "VARCHAR" else c for c, kind in columns)
    query = f"select {shown} from {mart} where {where}"
    return sorted(con.execute(query, {"e": edition}).fetchall(), key=repr)


def _check_layouts_agree(con: duckdb.DuckDBPyConnection) -> None:
    """The same answers through every layout (CSV and XLSX) give identical marts."""
    marts = [
        f"{s}.{t}"
        for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like 'marts%' order by all"
        ).fetchall()
    ]
    assert "marts.mart_theme_maturity" in marts
    for mart in marts:
        reference = _mart_rows(con, mart, "2023a")
        assert reference, mart
        for edition in list(LAYOUTS)[1:]:
            assert _mart_rows(con, mart, edition) == reference, (mart, edition, LAYOUTS[edition])
