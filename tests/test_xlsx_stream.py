"""The streaming XLSX reader: bounded memory, and the same table as a CSV of the same cells.

Nothing here is timed: memory is bounded by construction (rows come block by block),
and these tests check the construction (block sizes, the allocations of a read) and
that every form of cell reads as it did with python-calamine.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

from barometre.ingest import xlsx_stream
from barometre.ingest.errors import IngestError
from barometre.ingest.load import load_edition
from barometre.ingest.read_export import ReadSpec, read_export
from barometre.ingest.xlsx_guard import scan_sheet
from tests.factories import SEEDS
from tests.hostile.xlsx_craft import MAIN_NS, build_xlsx, column_letters, shared_strings_xml

SPEC = ReadSpec("xlsx", "utf-8", ",", None, 1)
SAMPLE_2018 = Path(__file__).resolve().parents[1] / "data" / "raw" / "2018"

# Every form of cell a row can take, and the text it must read as (python-calamine's
# values through cell_text): the plain forms take the regular-expression path, the
# others (entities, other attributes, single quotes, rich text) the XML parser.
SHARED = ["answer", "Tout à fait d'accord", "a &amp; b", "x", "s_x0042_"]
FORMS: list[tuple[str, str]] = [
    ('<c r="{c}" t="inlineStr"><is><t>Métropole de Lyon</t></is></c>', "Métropole de Lyon"),
    ('<c r="{c}" t="s"><v>1</v></c>', "Tout à fait d'accord"),
    ('<c r="{c}" s="0" t="s"><v>2</v></c>', "a & b"),
    ('<c r="{c}"><v>1001</v></c>', "1001"),
    ('<c r="{c}" t="n"><v>3.5</v></c>', "3.5"),
    ('<c r="{c}"><v>3.0</v></c>', "3"),
    ('<c r="{c}"><v>1.5E-3</v></c>', "0.0015"),
    ('<c r="{c}" t="b"><v>1</v></c>', "True"),
    ('<c r="{c}" t="str"><v>texte</v></c>', "texte"),
    ('<c r="{c}" t="inlineStr"><is><t>R&amp;D &lt;3 &#233;t&#xE9;</t></is></c>', "R&D <3 été"),
    ('<c r="{c}" t="inlineStr"><is><t xml:space="preserve"> espacé </t></is></c>', " espacé "),
    ('<c r="{c}"/>', ""),
    ('<c r="{c}" t="inlineStr"><is><t>A3</t></is></c>', "A3"),
    ('<c r="{c}" t="inlineStr"><is><t>x_x0041_y _x005F_x0041_</t></is></c>', "xAy _x0041_"),
    ('<c r="{c}" t="s"><v>4</v></c>', "sB"),
]
# Forms only the XML parser reads: in one row of ODD_EVERY (their blocks are parsed whole).
ODD: list[tuple[str, str]] = [
    (
        '<c r="{c}" t="inlineStr"><is><r><t>riche </t></r><r><t>texte</t></r></is></c>',
        "riche texte",
    ),
    ("<c r='{c}' t='inlineStr'><is><t>quotes</t></is></c>", "quotes"),
    ('<c r="{c}" t="inlineStr" cm="1"><is><t>attribut</t></is></c>', "attribut"),
    ('<c r="{c}" t="inlineStr"><is><t>a</t><rPh><t>phonetic</t></rPh></is></c>', "a"),
]
ODD_EVERY = 1_000
WIDTH = len(FORMS) + 1


def _form(r: int, i: int) -> tuple[str, str]:
    if r % ODD_EVERY == 0 and i <= len(ODD):
        return ODD[i - 1]
    return FORMS[(r + i) % len(FORMS)]


def _sheet(rows: int, prefix: str = "") -> bytes:
    """A header row, then `rows` data rows cycling through FORMS (column 1: the row id)."""
    p = f"{prefix}:" if prefix else ""
    out = [
        f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet xmlns{":" + prefix if prefix else ""}'
        f'="{MAIN_NS}"><{p}sheetData><{p}row r="1">'
    ]
    out += [
        f'<{p}c r="{column_letters(i)}1" t="inlineStr"><{p}is><{p}t>col{i}</{p}t></{p}is></{p}c>'
        for i in range(1, WIDTH + 1)
    ]
    out.append(f"</{p}row>")
    for r in range(2, rows + 2):
        cells = [f'<c r="A{r}"><v>{r}</v></c>']
        for i in range(1, WIDTH):
            form, _ = _form(r, i)
            cells.append(form.format(c=f"{column_letters(i + 1)}{r}"))
        row = f'<row r="{r}" spans="1:{WIDTH}">{"".join(cells)}</row>'
        if prefix:
            row = row.replace("<c ", f"<{p}c ").replace("</c>", f"</{p}c>")
            row = row.replace("<row ", f"<{p}row ").replace("</row>", f"</{p}row>")
            for tag in ("v", "is", "t", "r", "rPh"):
                row = row.replace(f"<{tag}>", f"<{p}{tag}>").replace(f"</{tag}>", f"</{p}{tag}>")
                row = row.replace(f"<{tag} ", f"<{p}{tag} ")
        out.append(row)
    out.append(f"</{p}sheetData></{p}worksheet>")
    return "".join(out).encode()


def _expected(rows: int) -> list[tuple]:
    return [(r, str(r), *[_form(r, i)[1] for i in range(1, WIDTH)]) for r in range(2, rows + 2)]


def _workbook(tmp_path: Path, rows: int, prefix: str = "") -> Path:
    shared = shared_strings_xml(SHARED)
    return build_xlsx(tmp_path / "big.xlsx", _sheet(rows, prefix), shared=shared)


def _csv_twin(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"col{i}" for i in range(1, WIDTH + 1)])
        writer.writerows(row[1:] for row in _expected(rows))
    return path


def _table(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return [
        tuple("" if v is None else v for v in row)
        for row in con.execute("SELECT * FROM t ORDER BY source_row").fetchall()
    ]


@pytest.mark.parametrize("prefix", ["", "x"])
def test_a_sheet_of_many_blocks_reads_as_its_csv_twin(tmp_path: Path, prefix: str) -> None:
    rows = 6_000  # ~3.5 MiB of sheet XML: several blocks, every form of cell in each
    xlsx, twin = _workbook(tmp_path, rows, prefix), _csv_twin(tmp_path, rows)
    with zipfile.ZipFile(xlsx) as book:
        assert book.getinfo("xl/worksheets/sheet1.xml").file_size > 3 * (1 << 20)
    con_x, con_c = duckdb.connect(), duckdb.connect()
    table = read_export(con_x, xlsx, SPEC, "t")
    read_export(con_c, twin, ReadSpec("csv", "utf-8", ",", None, 1), "t")
    assert (table.rows_read, table.rows_counted) == (rows, rows)
    assert _table(con_x) == _table(con_c) == _expected(rows)


def test_rows_come_block_by_block_never_the_whole_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = 6_000
    path = _workbook(tmp_path, rows)
    blocks: list[int] = []
    block_rows = xlsx_stream._block_rows

    def counted(*args):  # the reader's unit of work: one block of whole rows
        out = block_rows(*args)
        blocks.append(len(out))
        return out

    monkeypatch.setattr(xlsx_stream, "_block_rows", counted)
    scan = scan_sheet(path, None, 1)
    stream = xlsx_stream.stream_rows(path, scan)
    next(stream)
    assert blocks == [blocks[0]] and blocks[0] < rows / 2  # the first row: one block read
    assert sum(1 for _ in stream) == rows  # header + rows, less the one taken above
    # ~590 B of XML per row: a 1 MiB block holds ~1,800 rows; no block holds the sheet
    assert len(blocks) >= 3 and max(blocks) <= 2_000


def _peak_of_a_read(tmp_path: Path, rows: int) -> int:
    path = _workbook(tmp_path, rows)
    scan = scan_sheet(path, None, 1)
    tracemalloc.start()
    try:
        count = sum(1 for _ in xlsx_stream.stream_rows(path, scan))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == rows + 1
    return peak


@pytest.mark.slow  # tracemalloc makes a read ~10× slower
def test_memory_of_a_read_does_not_grow_with_the_sheet(tmp_path: Path) -> None:
    """Python allocations while streaming a sheet and one four times as long: the same
    few blocks' worth (a reader holding the cells would need four times as much)."""
    small = _peak_of_a_read(tmp_path, 2_000)
    large = _peak_of_a_read(tmp_path, 8_000)
    assert large < 1.25 * small + (1 << 20), (small, large)
    assert large < 32 * (1 << 20)  # one block (~1 MiB of XML) as tokens or elements


def test_the_bundled_sample_loads_as_its_csv_twin(tmp_path: Path) -> None:
    """The 2018 SurveyMonkey export and the same cells written as CSV load the same rows."""
    xlsx_dir = tmp_path / "xlsx" / "2018"
    shutil.copytree(SAMPLE_2018, xlsx_dir)
    csv_dir = tmp_path / "csv" / "2018"
    csv_dir.mkdir(parents=True)
    [export] = xlsx_dir.glob("*.xlsx")
    book = openpyxl.load_workbook(export, read_only=True)
    with (csv_dir / "export.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for row in book.worksheets[0].iter_rows(values_only=True):
            writer.writerow(["" if v is None else str(v) for v in row])
    book.close()
    manifest = (xlsx_dir / "manifest.yml").read_text(encoding="utf-8")
    manifest = manifest.replace(export.name, "export.csv").replace("format: xlsx", "format: csv")
    (csv_dir / "manifest.yml").write_text(manifest, encoding="utf-8")
    tables = []
    for folder in (xlsx_dir, csv_dir):
        warehouse = folder.parent / "w.duckdb"
        load_edition(folder, warehouse, SEEDS)
        con = duckdb.connect(str(warehouse), read_only=True)
        tables.append(
            [
                con.execute(
                    f"SELECT * EXCLUDE (source_file{extra}) FROM raw.{name} ORDER BY ALL"
                ).fetchall()
                for name, extra in (
                    ("responses", ""),
                    ("answers", ""),
                    ("quarantine", ", quarantined_at"),
                )
            ]
        )
        con.close()
    assert tables[0] == tables[1]
    assert len(tables[0][1]) > 1000  # answers were loaded


def test_a_date_formatted_number_takes_the_exact_reader(tmp_path: Path) -> None:
    """Dates stored as numbers need the workbook's styles: openpyxl renders them."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "when"])
    sheet.append([1, dt.datetime(2021, 3, 4, 10, 0)])
    path = tmp_path / "d.xlsx"
    book.save(path)
    con = duckdb.connect()
    read_export(con, path, SPEC, "t")
    assert con.execute("SELECT c0001, c0002 FROM t").fetchall() == [("1", "2021-03-04 10:00:00")]


def test_rows_out_of_order_are_refused(tmp_path: Path) -> None:
    body = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c></row>'
        '<row r="3"><c r="A3"><v>3</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>'
    )
    sheet = f'<worksheet xmlns="{MAIN_NS}"><sheetData>{body}</sheetData></worksheet>'
    path = build_xlsx(tmp_path / "o.xlsx", sheet)
    with pytest.raises(IngestError) as caught:
        read_export(duckdb.connect(), path, SPEC, "t")
    assert caught.value.problem == "sheet row 2 comes after row 3: rows are out of order"
    assert caught.value.row == 2


@pytest.mark.parametrize("reader", ["plain", "parser"])
def test_cells_holding_the_spools_separators_read_back_exactly(tmp_path: Path, reader: str) -> None:
    """The spool quotes fields with control characters XML cannot carry; OOXML's `_xHHHH_`
    escapes can still make them (and quotes, commas, line ends): each reads back as it is."""
    values = {
        "_x001E_": "\x1e",  # the spool's quote
        "a_x001E__x001E_b": "a\x1e\x1eb",
        "_x001D_x": "\x1dx",  # its delimiter
        'say "hi", then\nleave': 'say "hi", then\nleave',
        "": "",
    }
    attribute = ' cm="1"' if reader == "parser" else ""  # another attribute: the XML parser
    cells = "".join(
        f'<c r="{column_letters(i)}2" t="inlineStr"{attribute}><is><t>{raw}</t></is></c>'
        for i, raw in enumerate(values, start=1)
    )
    header = "".join(
        f'<c r="{column_letters(i)}1" t="inlineStr"><is><t>h{i}</t></is></c>'
        for i in range(1, len(values) + 1)
    )
    sheet = (
        f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1">{header}</row>'
        f'<row r="2">{cells}</row></sheetData></worksheet>'
    )
    con = duckdb.connect()
    read_export(con, build_xlsx(tmp_path / "s.xlsx", sheet), SPEC, "t")
    assert con.execute("SELECT * FROM t").fetchall() == [(2, *values.values())]
