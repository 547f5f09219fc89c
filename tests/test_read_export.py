"""read_export: header blocks of any height in both formats, and reconciliation of the counts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import openpyxl
import pytest

from barometre.ingest import load
from barometre.ingest.errors import IngestError
from barometre.ingest.load import load_edition
from barometre.ingest.read_export import ReadSpec, read_export
from barometre.ingest.verify import verify_reconciliation
from barometre_dev.sample.writers import save_workbook
from tests.factories import SEEDS, Response, write_limesurvey

BLOCK = [
    ["Survey export", "", ""],
    ["id", "T01[SQ001]", "T01[SQ002]"],
    ["", "Question one?", "Question two?"],
]
DATA = [["1", "A1", "A2"], ["2", "A3", ""]]


def write(tmp_path: Path, fmt: str) -> Path:
    if fmt == "csv":
        path = tmp_path / "e.csv"
        path.write_text(
            "\r\n".join(";".join(r) for r in [*BLOCK, *DATA]) + "\r\n", encoding="utf-8"
        )
        return path
    book = openpyxl.Workbook()
    for row in [*BLOCK, *DATA]:
        book.active.append([v or None for v in row])
    path = tmp_path / "e.xlsx"
    save_workbook(book, path)
    return path


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_header_block_of_three_rows_with_names_and_wording_rows(tmp_path: Path, fmt: str) -> None:
    spec = ReadSpec(fmt, "utf-8", ";", None, header_rows=3, names_row=2, wording_row=3)
    con = duckdb.connect()
    table = read_export(con, write(tmp_path, fmt), spec, "t")
    assert table.headers == ("id", "T01[SQ001]", "T01[SQ002]")
    assert table.wordings == ("", "Question one?", "Question two?")
    assert (table.rows_read, table.rows_counted) == (2, 2)
    rows = con.execute("SELECT source_row, c0001, c0002, coalesce(c0003, '') FROM t ORDER BY 1")
    assert rows.fetchall() == [(4, "1", "A1", "A2"), (5, "2", "A3", "")]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_wordings_default_to_the_names_row(tmp_path: Path, fmt: str) -> None:
    spec = ReadSpec(fmt, "utf-8", ";", None, header_rows=3, names_row=2)
    table = read_export(duckdb.connect(), write(tmp_path, fmt), spec, "t")
    assert table.wordings == table.headers


def test_header_rows_are_bounded(tmp_path: Path) -> None:
    spec = ReadSpec("csv", "utf-8", ";", None, header_rows=50)
    with pytest.raises(IngestError) as caught:
        read_export(duckdb.connect(), write(tmp_path, "csv"), spec, "t")
    assert caught.value.problem.endswith("(BAROMETRE_LIMIT_HEADER_ROWS); found 50")


def test_names_row_outside_the_block_is_refused(tmp_path: Path) -> None:
    spec = ReadSpec("csv", "utf-8", ";", None, header_rows=2, names_row=3)
    with pytest.raises(IngestError, match="must lie within the header block of 2 row"):
        read_export(duckdb.connect(), write(tmp_path, "csv"), spec, "t")


def lime(tmp_path: Path) -> Path:
    return write_limesurvey(
        tmp_path / "raw" / "2021",
        [Response("Bordeaux Métropole", "METRO"), Response("Nantes Métropole", "METRO")],
    )


def test_load_log_keeps_the_independent_count(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    [file] = load_edition(lime(tmp_path), warehouse, SEEDS).files
    assert (file.rows_read, file.rows_counted) == (2, 2)
    assert verify_reconciliation(warehouse, "2021").details == {
        "export.csv": {"read": 2, "counted": 2, "loaded": 2, "quarantined": 0}
    }


def test_write_refuses_a_count_mismatch_in_the_bookkeeping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: the check inside the write transaction, from raw.load_log."""
    stage = load.stage_edition

    def miscounted(*args):
        return [(f, sha, read, counted + 1) for f, sha, read, counted in stage(*args)]

    monkeypatch.setattr(load, "stage_edition", miscounted)
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(IngestError) as caught:
        load_edition(lime(tmp_path), warehouse, SEEDS)
    assert caught.value.problem == (
        "reconciliation failed: the reader loaded 2 data rows but the file holds 3 "
        "(counted independently); nothing was written"
    )
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM raw.load_log").fetchone() == (0,)
    con.close()


def test_verification_catches_a_count_mismatch(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    load_edition(lime(tmp_path), warehouse, SEEDS)
    con = duckdb.connect(str(warehouse))
    con.execute("UPDATE raw.load_log SET rows_counted = rows_counted + 1")
    con.close()
    assert not verify_reconciliation(warehouse, "2021").passed


def test_a_warehouse_from_before_the_count_is_migrated(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE SCHEMA raw")
    con.execute(
        "CREATE TABLE raw.load_log (edition_code VARCHAR NOT NULL, source_file VARCHAR NOT "
        "NULL, content_sha256 VARCHAR NOT NULL, rows_read INTEGER NOT NULL, rows_loaded "
        "INTEGER NOT NULL, rows_quarantined INTEGER NOT NULL, loaded_at TIMESTAMP NOT NULL)"
    )
    con.close()
    [file] = load_edition(lime(tmp_path), warehouse, SEEDS).files
    assert file.rows_counted == 2
