"""Hostile CSV exports: huge headers, fields and lines are refused by name, never a traceback;
the independent record count agrees with DuckDB on awkward but valid files."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import duckdb
import pytest

from barometre.ingest import read_csv
from barometre.ingest.errors import IngestError
from barometre.ingest.load import load_edition
from barometre.ingest.read_export import ReadSpec, read_export
from tests.factories import SEEDS, Response, write_limesurvey
from tests.hostile.measure import read_in_child

SPEC = {"format": "csv", "encoding": "utf-8", "delimiter": ";", "sheet": None, "header_rows": 1}
SECONDS = 5.0
PEAK_MIB = 400


def spec(**overrides) -> ReadSpec:
    return ReadSpec(**{**SPEC, **overrides})


def refusal(path: Path, **overrides) -> IngestError:
    start = time.perf_counter()
    with pytest.raises(IngestError) as caught:
        read_export(duckdb.connect(), path, spec(**overrides), "t")
    assert time.perf_counter() - start < SECONDS
    return caught.value


def test_200_kb_header_field_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("id;" + "h" * 200_000 + "\n1;2\n", encoding="utf-8")
    outcome, seconds, peak = read_in_child(path, SPEC)
    assert outcome == (
        f"file {path}, row 1: refused: one header cell of an export is limited to 65536 "
        "characters (BAROMETRE_LIMIT_FIELD_CHARS); found a longer field in header record 1 "
        "(a line of 200004 characters)\n  What to do: check that the file is the survey "
        "tool's export and `header_rows:`; if the input is legitimate, raise "
        "BAROMETRE_LIMIT_FIELD_CHARS"
    )
    assert seconds < SECONDS and peak < PEAK_MIB


def test_header_block_longer_than_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BAROMETRE_LIMIT_HEADER_BYTES", "1000")
    path = tmp_path / "h.csv"
    path.write_text(";".join(f"q{i}" for i in range(500)) + "\n1;2\n", encoding="utf-8")
    err = refusal(path)
    assert err.problem == (
        "refused: the header block of a CSV export is limited to 1000 bytes "
        "(BAROMETRE_LIMIT_HEADER_BYTES); found more than 1000 bytes before the end of header "
        "record 1"
    )


def test_many_columns_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(";".join(f"q{i}" for i in range(5000)) + "\n1\n", encoding="utf-8")
    err = refusal(path)
    assert err.row == 1
    assert err.problem.endswith("(BAROMETRE_LIMIT_COLUMNS); found 5000")


def test_long_line_is_refused_with_its_row_and_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BAROMETRE_LIMIT_LINE_BYTES", "10000")
    path = tmp_path / "l.csv"
    path.write_text("a;b\n1;2\n3;" + "x" * 20_000 + "\n5;6\n", encoding="utf-8")
    err = refusal(path)
    assert err.row == 3
    assert err.problem == (
        "refused: one record of an export (a CSV line, or the XML of one sheet row) is limited "
        "to 10000 bytes (BAROMETRE_LIMIT_LINE_BYTES); found a line of 20002 bytes"
    )
    assert "xxxx" not in err.render(), "the offending line is not echoed"


def test_long_quoted_field_with_newlines_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unclosed-looking quoted field spanning many lines is one long record."""
    monkeypatch.setenv("BAROMETRE_LIMIT_LINE_BYTES", "10000")
    path = tmp_path / "f.csv"
    path.write_text('a;b\n1;"' + "y\n" * 8000 + '"\n', encoding="utf-8")
    err = refusal(path)
    assert "(BAROMETRE_LIMIT_LINE_BYTES); found a line of" in err.problem
    assert err.row == 2


def test_default_line_limit_refuses_a_2_mb_line(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("a;b\n1;" + "z" * 2_000_000 + "\n", encoding="utf-8")
    outcome, seconds, peak = read_in_child(path, SPEC)
    assert "limited to 1048576 bytes (BAROMETRE_LIMIT_LINE_BYTES); found a line of" in outcome
    assert seconds < SECONDS and peak < PEAK_MIB


def test_truncated_quote_and_encoding_keep_their_messages(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('a;b\n1;"never closed\n', encoding="utf-8")
    assert "a quoted field is never closed" in refusal(path).problem
    path.write_bytes("a;b\n1;Métropole\n".encode("latin-1"))
    assert refusal(path).problem == "the file is not readable as utf-8"


def _python_count(text: str, header_rows: int) -> int:
    records = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=";"))
    return sum(1 for r in records[header_rows:] if r)


AWKWARD = (
    "\ufeffid;note\r\n"
    '1;"two\nlines"\r\n'
    "\r\n"  # a blank line is no record
    '2;"a ""quoted"" word; and a ; delimiter"\r\n'
    '3;""\r\n'
    "4;last without a line break"
)


@pytest.mark.parametrize("chunk", [3, 7, 64, 1 << 20])
def test_independent_count_agrees_with_python_csv_at_any_chunk_boundary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(read_csv, "_CHUNK", chunk)
    path = tmp_path / "a.csv"
    path.write_text(AWKWARD, encoding="utf-8", newline="")
    assert read_csv.count_records(path, 1) == _python_count(AWKWARD, 1) == 4
    table = read_export(duckdb.connect(), path, spec(), "t")
    assert (table.rows_read, table.rows_counted) == (4, 4)


def test_a_reader_that_loses_rows_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_limesurvey(
        tmp_path / "raw" / "2021",
        [Response("Bordeaux Métropole", "METRO"), Response("Nantes Métropole", "METRO")],
    )
    monkeypatch.setattr(read_csv, "count_records", lambda path, header_rows: 3)
    with pytest.raises(IngestError) as caught:
        load_edition(folder, tmp_path / "w.duckdb", SEEDS)
    assert caught.value.problem == (
        "reconciliation failed: the reader loaded 2 data rows but the file holds 3 "
        "(counted independently); nothing was written"
    )


def test_free_text_in_the_answer_columns_is_refused_before_python_decodes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each response types its own text in one question column: 12 free texts and the
    # default code A3 of every other cell make 13 distinct texts, above a limit of 10.
    monkeypatch.setenv("BAROMETRE_LIMIT_ANSWER_TEXTS", "10")
    # (the refusal comes before any collectivity is resolved: names need not be real)
    responses = [
        Response(f"Collectivité {i}", "METRO", overrides={"T01[SQ001]": f"texte libre {i}"})
        for i in range(12)
    ]
    folder = write_limesurvey(tmp_path / "2021", responses)
    with pytest.raises(IngestError) as caught:
        load_edition(folder, tmp_path / "w.duckdb", SEEDS, dry_run=True)
    assert "(BAROMETRE_LIMIT_ANSWER_TEXTS); found 13" in caught.value.problem
    assert not (tmp_path / "w.duckdb").exists()
