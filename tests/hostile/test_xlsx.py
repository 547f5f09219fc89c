"""Hostile XLSX exports: every row is read or the file is refused, in bounded time and memory.

Files are crafted at test time (a real SurveyMonkey-layout workbook with one part
rewritten, or a tiny workbook built by hand); each test asserts the exact outcome.
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

from barometre.ingest import read_xlsx
from barometre.ingest.errors import IngestError
from barometre.ingest.load import load_edition
from barometre.ingest.read_export import ReadSpec, read_export
from tests.factories import SEEDS, Response, write_surveymonkey
from tests.hostile.measure import read_in_child
from tests.hostile.xlsx_craft import (
    SHEET,
    build_xlsx,
    column_letters,
    rewrite_part,
    set_dimension,
    shared_strings_xml,
    sheet_xml,
)

SPEC = {"format": "xlsx", "encoding": "utf-8", "delimiter": ",", "sheet": None, "header_rows": 1}
SECONDS = 5.0  # every refusal below comes well within this
PEAK_MIB = 400  # a child process with duckdb imported uses ~100 MiB


def spec(**overrides) -> ReadSpec:
    return ReadSpec(**{**SPEC, **overrides})


def edition(tmp_path: Path, respondents: int = 8) -> Path:
    """A 2018 SurveyMonkey-layout edition folder of `respondents` distinct collectivities."""
    names = ["MEL", "Communauté urbaine de Bordeaux", "Nantes Métropole", "Rennes Métropole"]
    names += ["Métropole de Lyon", "Toulouse Métropole", "Eurométropole de Strasbourg", "Nîmes"]
    responses = [
        Response(name, submitted=f"03/0{1 + i % 9}/2018 10:00:00 AM", answer="3")
        for i, name in enumerate(names[:respondents])
    ]
    return write_surveymonkey(tmp_path / "raw" / "2018", responses)


def refusal(call) -> IngestError:
    start = time.perf_counter()
    with pytest.raises(IngestError) as caught:
        call()
    assert time.perf_counter() - start < SECONDS
    return caught.value


# --- Silent loss: a stale <dimension> ------------------------------------------------


def test_stale_dimension_every_row_is_loaded(tmp_path: Path) -> None:
    folder = edition(tmp_path)
    export = folder / "export.xlsx"
    rewrite_part(export, SHEET, set_dimension("A1:C4"))  # 10 rows in the sheet, 4 declared
    naive = openpyxl.load_workbook(export, read_only=True).worksheets[0]
    assert len(list(naive.iter_rows())) == 4, "the crafted file must be stale"

    load = load_edition(folder, tmp_path / "w.duckdb", SEEDS)

    assert load.respondents == 8
    [file] = load.files
    assert (file.rows_read, file.rows_counted, file.rows_loaded) == (8, 8, 8)


def test_stale_dimension_with_a_formula_cell_uses_the_streaming_reader(tmp_path: Path) -> None:
    """A formula is data: its text is kept (openpyxl path), every row still read."""
    path = build_xlsx(
        tmp_path / "f.xlsx",
        sheet_xml([["id", "note"], ["1", "a"], ["2", "b"], ["3", "c"]], dimension="A1:B2").replace(
            '<row r="4">', '<row r="4"><c r="C4"><f>HYPERLINK("http://x")</f><v></v></c>'
        ),
    )
    con = duckdb.connect()
    table = read_export(con, path, spec(), "t")
    assert (table.rows_read, table.rows_counted) == (3, 3)
    assert con.execute("SELECT * FROM t ORDER BY source_row").fetchall()[-1] == (4, "3", "c")


def test_formula_text_is_kept(tmp_path: Path) -> None:
    path = build_xlsx(
        tmp_path / "f.xlsx",
        sheet_xml([["id", "note"], ["1", ""]]).replace(
            '<c r="A2" t="inlineStr"><is><t>1</t></is></c>',
            '<c r="A2" t="inlineStr"><is><t>1</t></is></c><c r="B2"><f>1+1</f><v>2</v></c>',
        ),
    )
    con = duckdb.connect()
    read_export(con, path, spec(), "t")
    assert con.execute("SELECT c0002 FROM t").fetchall() == [("=1+1",)]


def test_a_reader_that_loses_rows_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = edition(tmp_path)
    warehouse = tmp_path / "w.duckdb"
    load_edition(folder, warehouse, SEEDS)
    before = duckdb.connect(str(warehouse), read_only=True)
    kept = before.execute("SELECT * FROM raw.responses ORDER BY ALL").fetchall()
    before.close()
    rows = read_xlsx.block_rows

    def lose_the_last_row(block, framing, cells):  # a reader bug, simulated (one block)
        return rows(block, framing, cells)[:-1]

    monkeypatch.setattr(read_xlsx, "block_rows", lose_the_last_row)
    err = refusal(lambda: load_edition(folder, warehouse, SEEDS))
    assert err.problem == (
        "reconciliation failed: the reader loaded 7 data rows but the file holds 8 "
        "(counted independently); nothing was written"
    )
    after = duckdb.connect(str(warehouse), read_only=True)
    assert after.execute("SELECT * FROM raw.responses ORDER BY ALL").fetchall() == kept
    after.close()


def test_empty_rows_and_gaps_are_no_data(tmp_path: Path) -> None:
    body = '<row r="5" spans="1:2"><c r="A5" s="1"/></row><row r="9"><c r="A9" t="inlineStr">'
    body += "<is><t>9</t></is></c></row>"
    path = build_xlsx(tmp_path / "g.xlsx", sheet_xml([["id", "x"], ["1", "a"]], body=body))
    con = duckdb.connect()
    table = read_export(con, path, spec(), "t")
    assert (table.rows_read, table.rows_counted) == (2, 2)
    assert con.execute("SELECT source_row, c0001 FROM t ORDER BY 1").fetchall() == [
        (2, "1"),
        (9, "9"),
    ]


# --- Bounded resources ---------------------------------------------------------------


def test_declared_xfd1048576_is_refused_before_reading(tmp_path: Path) -> None:
    path = build_xlsx(tmp_path / "d.xlsx", sheet_xml([["id"], ["1"]], dimension="A1:XFD1048576"))
    outcome, seconds, peak = read_in_child(path, SPEC)
    assert outcome == (
        f"file {path}: refused: the columns of one export (declared or read) is limited to "
        "4096 columns (BAROMETRE_LIMIT_COLUMNS); found 16384 (declared dimension A1:XFD1048576)"
        "\n  What to do: check that the file is the survey tool's export; if the input is "
        "legitimate, raise BAROMETRE_LIMIT_COLUMNS"
    )
    assert seconds < SECONDS and peak < PEAK_MIB


def test_declared_rows_beyond_the_limit_are_refused(tmp_path: Path) -> None:
    path = build_xlsx(tmp_path / "d.xlsx", sheet_xml([["id"], ["1"]], dimension="A1:B3000000"))
    err = refusal(lambda: read_export(duckdb.connect(), path, spec(), "t"))
    assert err.problem.endswith(
        "(BAROMETRE_LIMIT_ROWS); found 3000000 (declared dimension A1:B3000000)"
    )


def test_zip_bomb_is_refused_from_the_central_directory(tmp_path: Path) -> None:
    filler = b" " * (16 << 20)  # 16 MiB of blanks deflate to ~16 KiB
    path = build_xlsx(tmp_path / "bomb.xlsx", sheet_xml([["id"], ["1"]]).encode() + filler)
    assert path.stat().st_size < 100_000
    with zipfile.ZipFile(path) as book:
        info = book.getinfo(SHEET)
    ratio = info.file_size / info.compress_size
    outcome, seconds, peak = read_in_child(path, SPEC)
    assert outcome.splitlines()[0] == (
        f"file {path}: refused: the compression ratio of an XLSX workbook and of each of its "
        "parts over 1 MiB is limited to 100 × (uncompressed / compressed) "
        f"(BAROMETRE_LIMIT_XLSX_COMPRESSION_RATIO); found {ratio:.0f} ({SHEET})"
    )
    assert seconds < SECONDS and peak < PEAK_MIB


def test_uncompressed_size_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = edition(tmp_path) / "export.xlsx"
    with zipfile.ZipFile(path) as book:
        total = sum(i.file_size for i in book.infolist())
    monkeypatch.setenv("BAROMETRE_LIMIT_XLSX_UNCOMPRESSED_BYTES", "10000")
    err = refusal(lambda: read_export(duckdb.connect(), path, spec(header_rows=2), "t"))
    assert err.problem == (
        "refused: the uncompressed size of an XLSX workbook is limited to 10000 bytes "
        f"(BAROMETRE_LIMIT_XLSX_UNCOMPRESSED_BYTES); found {total}"
    )


def test_too_many_parts_are_refused(tmp_path: Path) -> None:
    extra = {f"xl/media/image{i}.bin": b"x" for i in range(1001)}
    path = build_xlsx(tmp_path / "m.xlsx", sheet_xml([["id"], ["1"]]), extra)
    err = refusal(lambda: read_export(duckdb.connect(), path, spec(), "t"))
    assert err.problem.endswith("(BAROMETRE_LIMIT_XLSX_MEMBERS); found 1006")


def shared_workbook(tmp_path: Path) -> Path:
    """id/answer in shared strings (as Excel writes them), two data rows."""
    sheet = sheet_xml([]).replace(
        "<sheetData>",
        '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="s"><v>2</v></c></row>'
        '<row r="3"><c r="A3"><v>2</v></c><c r="B3" t="s"><v>2</v></c></row>',
    )
    return build_xlsx(tmp_path / "s.xlsx", sheet, shared=shared_strings_xml(["id", "answer", "A3"]))


def test_shared_strings_are_read(tmp_path: Path) -> None:
    con = duckdb.connect()
    table = read_export(con, shared_workbook(tmp_path), spec(), "t")
    assert table.headers == ("id", "answer")
    assert con.execute("SELECT * FROM t ORDER BY 1").fetchall() == [(2, "1", "A3"), (3, "2", "A3")]


def test_huge_shared_strings_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = shared_workbook(tmp_path)
    with zipfile.ZipFile(path) as book:
        size = book.getinfo("xl/sharedStrings.xml").file_size
    monkeypatch.setenv("BAROMETRE_LIMIT_XLSX_SHARED_STRINGS_BYTES", "100")
    err = refusal(lambda: read_export(duckdb.connect(), path, spec(), "t"))
    assert err.problem == (
        "refused: the uncompressed size of an XLSX workbook's shared strings is limited to "
        f"100 bytes (BAROMETRE_LIMIT_XLSX_SHARED_STRINGS_BYTES); found {size}"
    )


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]>"
)


@pytest.mark.parametrize("part", [SHEET, "xl/sharedStrings.xml"])
def test_dtd_and_entity_expansion_are_refused(tmp_path: Path, part: str) -> None:
    path = shared_workbook(tmp_path)
    rewrite_part(path, part, lambda xml: BILLION_LAUGHS + xml.split(b"?>", 1)[-1])
    outcome, seconds, peak = read_in_child(path, SPEC)
    assert outcome.splitlines()[0] == (
        f"file {path}: refused: part {part} of the workbook declares a DTD or entities, which "
        "a survey export never does (entity expansion can exhaust memory)"
    )
    assert seconds < SECONDS and peak < PEAK_MIB


def test_many_columns_are_refused_while_streaming(tmp_path: Path) -> None:
    wide = [[f"q{i}" for i in range(1, 5001)], ["1"]]
    path = build_xlsx(tmp_path / "w.xlsx", sheet_xml(wide))
    err = refusal(lambda: read_export(duckdb.connect(), path, spec(), "t"))
    assert err.row == 1
    assert err.problem.endswith("(BAROMETRE_LIMIT_COLUMNS); found 5000 (columns read)")


def test_sparse_far_cell_is_refused_before_the_reader_allocates(tmp_path: Path) -> None:
    body = f'<row r="900000"><c r="{column_letters(4000)}900000"><v>1</v></c></row>'
    path = build_xlsx(tmp_path / "s.xlsx", sheet_xml([["id"], ["1"]], body=body))
    outcome, seconds, peak = read_in_child(path, SPEC)
    assert "(BAROMETRE_LIMIT_XLSX_CELLS); found 900000 rows × 4000 columns" in outcome
    assert seconds < SECONDS and peak < PEAK_MIB


def test_rows_beyond_the_limit_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAROMETRE_LIMIT_ROWS", "3")
    path = build_xlsx(tmp_path / "r.xlsx", sheet_xml([["id"], *[[str(i)] for i in range(6)]]))
    err = refusal(lambda: read_export(duckdb.connect(), path, spec(), "t"))
    assert err.problem.endswith("(BAROMETRE_LIMIT_ROWS); found row 5")


def test_a_row_that_never_ends_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAROMETRE_LIMIT_LINE_BYTES", "100000")
    cells = "".join(f'<c r="A2"><v>{i}</v></c>' for i in range(30000))
    path = build_xlsx(tmp_path / "l.xlsx", sheet_xml([["id"]], body=f'<row r="2">{cells}'))
    err = refusal(lambda: read_export(duckdb.connect(), path, spec(), "t"))
    assert "(BAROMETRE_LIMIT_LINE_BYTES); found a sheet row of more than" in err.problem
    assert err.row == 2


def test_error_values_are_kept_as_written(tmp_path: Path) -> None:
    """calamine gives '' for `#N/A`: such sheets take the exact (openpyxl) path."""
    body = '<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="e"><v>#N/A</v></c></row>'
    body += '<row r="3"><c r="B3" t="e"><v>#DIV/0!</v></c></row>'
    path = build_xlsx(tmp_path / "e.xlsx", sheet_xml([["id", "v"]], body=body))
    con = duckdb.connect()
    table = read_export(con, path, spec(), "t")
    assert (table.rows_read, table.rows_counted) == (2, 2)
    assert con.execute("SELECT * FROM t ORDER BY 1").fetchall() == [
        (2, "1", "#N/A"),
        (3, "", "#DIV/0!"),
    ]


def test_openpyxl_parses_through_defusedxml() -> None:
    """The formula path's reader: defusedxml is installed, so openpyxl uses it."""
    assert openpyxl.DEFUSEDXML is True
