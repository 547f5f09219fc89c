"""Incremental by edition (issue 10 P5): after one edition changes, a `dbt build`
rebuilds only that edition in core and in the respondent-level intermediate models (and
only the pairs of editions that hold it in the edition comparison), and every core,
intermediate, mart and restricted table is byte-identical to a `--full-refresh` build
of the same raw data.

macros/edition_incremental.sql says how an edition is found changed (its build mark).
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from barometre.common.settings import PROJECT_ROOT
from barometre.ingest.load import load_edition
from tests.conftest import run_dbt

pytestmark = pytest.mark.slow

SCHEMAS = ("core", "intermediate", "marts", "restricted")
CHANGED, UNCHANGED = "2021", "2018"
# Every model incremental by edition (edition_build_mark on every row), and by pair.
BY_EDITION = (
    "core.fct_answers",
    "intermediate.int_respondent_subject_maturity",
    "intermediate.int_subject_maturity__memberships",
    "intermediate.int_subject_maturity__cells",
    "intermediate.int_subject_maturity__disclosive_search",
    "intermediate.int_respondent_maturity_groups",
)
BY_PAIR = ("intermediate.int_edition_comparison__sides",)


def table_fingerprints(warehouse: Path, scratch: Path) -> dict[str, str]:
    """sha256 of every table of SCHEMAS rendered as CSV, rows in a total order."""
    scratch.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ? AND table_type = 'BASE TABLE' ORDER BY ALL",
            [list(SCHEMAS)],
        ).fetchall()
        prints = {}
        for schema, table in tables:
            target = scratch / f"{schema}.{table}.csv"
            con.execute(f"COPY (SELECT * FROM {schema}.{table} ORDER BY ALL) TO '{target}'")
            prints[f"{schema}.{table}"] = hashlib.sha256(target.read_bytes()).hexdigest()
        return prints
    finally:
        con.close()


def change_limesurvey_export(folder: Path) -> None:
    """One answer changed and the last response dropped, in the edition's CSV export."""
    [path] = folder.glob("*.csv")
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(text.splitlines(), delimiter=";"))
    header, data = rows[0], rows[1:-1]
    column = header.index("T01[SQ001]")
    data[0][column] = "A2" if data[0][column] != "A2" else "A3"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(
            [header, *data]
        )


MARKS = "list(DISTINCT edition_build_mark ORDER BY edition_build_mark)"


def edition_marks(warehouse: Path) -> dict[str, dict[str, tuple]]:
    """The distinct build marks of each incremental model, by edition (or pair)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = {}
        for table in BY_EDITION:
            rows = con.execute(f"SELECT edition_code, {MARKS} FROM {table} GROUP BY ALL").fetchall()
            found[table] = {edition: tuple(marks) for edition, marks in rows}
        for table in BY_PAIR:
            rows = con.execute(
                f"SELECT edition_code_from || '>' || edition_code_to, {MARKS} "
                f"FROM {table} GROUP BY ALL"
            ).fetchall()
            found[table] = {pair: tuple(marks) for pair, marks in rows}
        return found
    finally:
        con.close()


def _one(warehouse: Path, sql: str, params: list) -> tuple:
    con = duckdb.connect(str(warehouse))
    try:
        return con.execute(sql, params).fetchone()
    finally:
        con.close()


def _assert_equals_a_full_refresh(warehouse: Path, tmp_path: Path) -> dict:
    """Every table of `warehouse` (built incrementally) equals those of a copy rebuilt with
    `--full-refresh`; returns the full refresh's fingerprints."""
    incremental = table_fingerprints(warehouse, tmp_path / "incremental")
    refreshed = tmp_path / "full" / "w.duckdb"
    refreshed.parent.mkdir()
    shutil.copy(warehouse, refreshed)
    full = run_dbt(
        refreshed, "build", "--quiet", "--full-refresh", "--target-path", str(tmp_path / "t-full")
    )
    assert full.returncode == 0, full.stdout + full.stderr
    expected = table_fingerprints(refreshed, tmp_path / "full-csv")
    different = sorted(
        k for k in expected.keys() | incremental.keys() if expected.get(k) != incremental.get(k)
    )
    assert not different, f"incremental build differs from a full refresh: {different}"
    return expected


def test_incremental_build_after_one_changed_edition_equals_a_full_refresh(
    sample_warehouse: Path, tmp_path: Path
) -> None:
    data = tmp_path / "raw"
    shutil.copytree(PROJECT_ROOT / "data" / "raw", data)
    warehouse = tmp_path / "wh" / "w.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(sample_warehouse, warehouse)  # both editions loaded and built
    marks = "SELECT count(*), min(edition_build_mark) FROM core.fct_answers WHERE edition_code = ?"
    before = _one(warehouse, marks, [UNCHANGED])
    changed_before = _one(warehouse, marks, [CHANGED])
    marks_before = edition_marks(warehouse)

    change_limesurvey_export(data / CHANGED)
    load_edition(data / CHANGED, warehouse, PROJECT_ROOT / "seeds")
    # One raw answer of the unchanged edition altered behind the ingester's back
    # (raw.load_log untouched): an incremental build must not read that edition again,
    # so core keeps the old level. Restored before the comparison with a full refresh.
    # raw.answers is a view: the level is altered in its decoded answer (raw.answer_keys,
    # ingest/raw_tables.py), which the answers with the same raw text in that column share.
    respondent, question, level, key = _one(
        warehouse,
        "SELECT a.respondent_id, a.question_code, a.level, k.answer_key FROM raw.answers a "
        "JOIN raw.answer_keys k USING (edition_code, source_file, source_column, raw_answer) "
        "WHERE a.edition_code = ? AND a.answer_state = 'answered' ORDER BY ALL LIMIT 1",
        [UNCHANGED],
    )
    tamper = "UPDATE raw.answer_keys SET level = ? WHERE edition_code = ? AND answer_key = ?"
    _one(warehouse, tamper, [1 if level != 1 else 2, UNCHANGED, key])

    built = run_dbt(warehouse, "build", "--quiet", "--target-path", str(tmp_path / "t-incr"))
    assert built.returncode == 0, built.stdout + built.stderr
    core_level = (
        "SELECT level FROM core.fct_answers WHERE edition_code = ? AND respondent_id = ? "
        "AND question_code = ?"
    )
    assert _one(warehouse, core_level, [UNCHANGED, respondent, question]) == (level,), (
        "the unchanged edition was rebuilt"
    )
    assert _one(warehouse, marks, [UNCHANGED]) == before
    # The changed edition is rebuilt: core holds exactly its new raw answers.
    different_rows = (
        "SELECT count(*) FROM ((SELECT respondent_id, question_code, level FROM raw.answers "
        "WHERE edition_code = $1 EXCEPT ALL SELECT respondent_id, question_code, level "
        "FROM core.fct_answers WHERE edition_code = $1) UNION ALL (SELECT respondent_id, "
        "question_code, level FROM core.fct_answers WHERE edition_code = $1 EXCEPT ALL "
        "SELECT respondent_id, question_code, level FROM raw.answers WHERE edition_code = $1))"
    )
    assert _one(warehouse, different_rows, [CHANGED]) == (0,)
    assert _one(warehouse, marks, [CHANGED]) != changed_before
    # Every incremental model kept the unchanged edition's rows and rebuilt the other.
    marks_after = edition_marks(warehouse)
    for table in BY_EDITION:
        assert marks_after[table][UNCHANGED] == marks_before[table][UNCHANGED], table
        assert marks_after[table][CHANGED] != marks_before[table][CHANGED], table
    for table in BY_PAIR:  # the one pair holds the changed edition
        assert marks_after[table] != marks_before[table], table
    _one(warehouse, tamper, [level, UNCHANGED, key])

    expected = _assert_equals_a_full_refresh(warehouse, tmp_path)
    assert "core.fct_answers" in expected and "marts.mart_question_distribution" in expected
    assert set(BY_EDITION + BY_PAIR) <= expected.keys()


def test_incremental_build_after_an_edition_is_gone_equals_a_full_refresh(
    sample_warehouse: Path, tmp_path: Path
) -> None:
    """An edition no longer loaded: the post-hooks delete its rows (by edition, and its
    pairs in the comparison) from every incremental model, as a full rebuild leaves none."""
    from barometre.ingest.raw_tables import WRITTEN_TABLES

    warehouse = tmp_path / "wh" / "w.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(sample_warehouse, warehouse)  # both editions loaded and built
    marks_before = edition_marks(warehouse)
    assert all(UNCHANGED in marks_before[table] for table in BY_EDITION)
    assert all(marks_before[table] for table in BY_PAIR)
    con = duckdb.connect(str(warehouse))
    try:
        for table in WRITTEN_TABLES:
            con.execute(f"DELETE FROM raw.{table} WHERE edition_code = ?", [UNCHANGED])
    finally:
        con.close()

    built = run_dbt(warehouse, "build", "--quiet", "--target-path", str(tmp_path / "t-incr"))
    assert built.returncode == 0, built.stdout + built.stderr
    marks_after = edition_marks(warehouse)
    for table in BY_EDITION:
        assert set(marks_after[table]) == {CHANGED}, table
    for table in BY_PAIR:  # the one pair held the edition gone
        assert marks_after[table] == {}, table

    _assert_equals_a_full_refresh(warehouse, tmp_path)
