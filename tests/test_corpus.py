"""Every malformed export of tests/corpus/cases gives exactly its expected outcome.

A case is an edition folder as a user would drop it plus `expected.yml` (see
tests/corpus/build_corpus.py). Before each case, a good load of the same edition is
in the warehouse: an error must leave it untouched, a load must reconcile.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from barometre.ingest.errors import IngestError
from barometre.ingest.load import load_edition
from tests.corpus.build_corpus import GOOD_CSV, GOOD_XLSX
from tests.factories import SEEDS, write_limesurvey, write_surveymonkey

CASES = Path(__file__).resolve().parent / "corpus" / "cases"
CASE_DIRS = sorted(p for p in CASES.iterdir() if p.is_dir())
RAW_TABLES = ("responses", "answers", "quarantine", "load_log")


def snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            t: con.execute(f"SELECT * FROM raw.{t} ORDER BY ALL").fetchall() for t in RAW_TABLES
        }
    finally:
        con.close()


def good_load(tmp_path: Path, edition: str, warehouse: Path) -> None:
    if edition == "2021":
        folder = write_limesurvey(tmp_path / "good" / "2021", GOOD_CSV)
    else:
        folder = write_surveymonkey(tmp_path / "good" / "2018", GOOD_XLSX)
    load_edition(folder, warehouse, SEEDS)


def test_corpus_covers_each_failure_kind_in_both_layouts() -> None:
    names = [p.name for p in CASE_DIRS]
    assert len(names) >= 20
    assert sum(n.startswith("csv_") for n in names) >= 10
    assert sum(n.startswith("xlsx_") for n in names) >= 10


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_case_outcome(case: Path, tmp_path: Path) -> None:
    expected = yaml.safe_load((case / "expected.yml").read_text(encoding="utf-8"))
    edition_dir = next(p for p in case.iterdir() if p.is_dir())
    warehouse = tmp_path / "w.duckdb"
    good_load(tmp_path, edition_dir.name, warehouse)
    before = snapshot(warehouse)
    share = expected.get("max_bad_share", 1.0)

    if expected["outcome"] == "error":
        with pytest.raises(IngestError) as caught:
            load_edition(edition_dir, warehouse, SEEDS, max_bad_share=share)
        err, want = caught.value, expected["error"]
        assert want["problem_contains"] in err.problem, err.render()
        assert Path(err.file).name == want["file"], err.render()
        for key in ("row", "column", "value"):
            if want[key] is not None:
                assert getattr(err, key) == want[key], err.render()
        assert err.hint, "every error says what to do"
        assert snapshot(warehouse) == before, "a failed load must leave earlier data untouched"
        return

    load = load_edition(edition_dir, warehouse, SEEDS, max_bad_share=share)
    con = duckdb.connect(str(warehouse), read_only=True)
    quarantined = con.execute(
        "SELECT source_row, column_name, value, check_name FROM raw.quarantine "
        "WHERE edition_code = ? ORDER BY source_row, check_name",
        [edition_dir.name],
    ).fetchall()
    reasons = con.execute("SELECT count(*) FROM raw.quarantine WHERE reason = ''").fetchone()
    con.close()
    assert quarantined == [
        (q["row"], q["column"], q["value"], q["check"]) for q in expected["quarantine"]
    ]
    assert reasons == (0,)
    for f in load.files:
        assert f.rows_read == f.rows_loaded + f.rows_quarantined


def test_committed_corpus_equals_a_fresh_build(tmp_path: Path) -> None:
    from tests.corpus.build_corpus import build

    build(tmp_path)
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {p.relative_to(CASES): p.read_bytes() for p in CASES.rglob("*") if p.is_file()}
    assert fresh.keys() == committed.keys()
    assert [k for k in fresh if fresh[k] != committed[k]] == []
