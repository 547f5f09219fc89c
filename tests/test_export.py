"""Exports for Excel and Parquet users, and the BI access paths documented in
docs/bi-access.md (DuckDB Python, SQLAlchemy through duckdb-engine, Parquet)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import duckdb
import pytest

from barometre.publish.publication import publish
from barometre.serve.export import export_marts

TRICKY = [
    ('=HYPERLINK("http://evil.example","clic")', -1.5, -3),
    ("+33 1 23 45 67 89", 2.25, 4),
    ("-3", 0.5, 0),
    ("-2.5", 1.0, 1),
    ("-cmd|' /C calc'!A0", 3.0, 2),
    ("@SUM(A1:A2)", 4.75, 5),
    ("\tTabulation", 1.25, 6),
    ("\rRetour", 1.5, 7),
    ("Métropole; « Lille »", 2.0, 8),
    ("plain text", None, None),
]


@pytest.fixture
def published(tmp_path: Path) -> Path:
    working = tmp_path / "working.duckdb"
    con = duckdb.connect(str(working))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.mart_cells (label VARCHAR, share DOUBLE, delta INTEGER)")
    con.executemany("INSERT INTO marts.mart_cells VALUES (?, ?, ?)", TRICKY)
    con.execute("CREATE TABLE marts.mart_other AS SELECT range AS n FROM range(3)")
    con.close()
    return publish(working, tmp_path / "published").path


def _read_csv(path: Path) -> tuple[bytes, list[list[str]]]:
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    return raw, list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def test_csv_is_made_for_excel(published: Path, tmp_path: Path) -> None:
    files = export_marts(published, tmp_path / "out", ("csv",))
    assert sorted(p.name for p in files) == ["mart_cells.csv", "mart_other.csv"]
    raw, rows = _read_csv(tmp_path / "out" / "csv" / "mart_cells.csv")

    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    assert raw.count(b"\r\n") == len(TRICKY) + 1  # CRLF after the header and every row
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert rows[0] == ["label", "share", "delta"]
    by_label = {r[0]: r for r in rows[1:]}

    # Formula-like text is neutralised with a leading apostrophe …
    assert '\'=HYPERLINK("http://evil.example","clic")' in by_label
    for cell in (
        "'+33 1 23 45 67 89",
        "'-cmd|' /C calc'!A0",
        "'@SUM(A1:A2)",
        "'\tTabulation",
        "'\rRetour",
    ):
        assert cell in by_label, cell
    # … but not plain negative numbers, in a text column or a numeric one.
    assert by_label["-3"][1:] == ["0,5", "0"]
    assert by_label["-2.5"][1:] == ["1,0", "1"]
    assert by_label['\'=HYPERLINK("http://evil.example","clic")'][1:] == ["-1,5", "-3"]
    # `;` inside a cell is quoted, accents survive, NULL is an empty cell.
    assert by_label["Métropole; « Lille »"][1:] == ["2,0", "8"]
    assert by_label["plain text"][1:] == ["", ""]


def test_csv_can_keep_the_decimal_point(published: Path, tmp_path: Path) -> None:
    export_marts(published, tmp_path / "out", ("csv",), decimal_comma=False)
    _raw, rows = _read_csv(tmp_path / "out" / "csv" / "mart_cells.csv")
    assert {r[0]: r[1] for r in rows[1:]}["'@SUM(A1:A2)"] == "4.75"


def test_parquet_export_is_the_published_table(published: Path, tmp_path: Path) -> None:
    files = export_marts(published, tmp_path / "out", ("parquet",))
    assert sorted(p.name for p in files) == ["mart_cells.parquet", "mart_other.parquet"]
    con = duckdb.connect()
    exported = con.execute(
        f"SELECT * FROM '{tmp_path}/out/parquet/mart_cells.parquet' ORDER BY ALL"
    ).fetchall()
    assert exported == sorted(TRICKY, key=lambda r: tuple((v is None, v) for v in r))
    assert con.execute(
        "SELECT column_type FROM (DESCRIBE SELECT * FROM "
        f"'{tmp_path}/out/parquet/mart_cells.parquet') WHERE column_name = "
        "'share'"
    ).fetchone() == ("DOUBLE",)


def test_export_refuses_unknown_formats_and_missing_publication(
    published: Path, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="ods"):
        export_marts(published, tmp_path / "out", ("ods",))
    with pytest.raises(FileNotFoundError, match="barometre run"):
        export_marts(tmp_path / "none" / "barometre.duckdb", tmp_path / "out")


def test_export_command(
    published: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from barometre.serve.cli import build_parser

    monkeypatch.setenv("BAROMETRE_PUBLISHED_DIR", str(published.parent))
    args = build_parser().parse_args(["export", "--out", str(tmp_path / "x"), "--format", "csv"])
    assert args.func(args) == 0
    assert (tmp_path / "x" / "csv" / "mart_cells.csv").is_file()
    assert not (tmp_path / "x" / "parquet").exists()
    out = capsys.readouterr().out
    assert "[export]" in out and "2 file(s) written" in out


def test_xlsx_workbook(tmp_path: Path) -> None:
    import openpyxl

    working = tmp_path / "w.duckdb"
    con = duckdb.connect(str(working))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.mart_cells (label VARCHAR, share DOUBLE, delta INTEGER)")
    con.executemany("INSERT INTO marts.mart_cells VALUES (?, ?, ?)", TRICKY)
    con.execute(
        "CREATE TABLE marts.mart_other AS SELECT range AS n, range % 2 = 0 AS even FROM range(3)"
    )
    con.close()
    published = publish(working, tmp_path / "pub").path
    duck = duckdb.connect(str(published), read_only=True)
    version = duck.execute("SELECT version FROM meta.publication").fetchone()[0]
    duck.close()
    (target,) = export_marts(published, tmp_path / "out", ("xlsx",))
    assert target == tmp_path / "out" / "xlsx" / "barometre.xlsx"
    assert not (tmp_path / "out" / "csv").exists()
    book = openpyxl.load_workbook(target)
    assert book.sheetnames[:3] == ["Lisez-moi", "cells", "other"]
    readme = {r[0]: r[1] for r in book["Lisez-moi"].iter_rows(values_only=True)}
    assert readme["Version de la publication"] == version
    assert "Secret statistique" in readme and "cells" in readme and "other" in readme
    rows = list(book["cells"].iter_rows(values_only=True))
    assert rows[0] == ("label", "share", "delta")
    by_label = {r[0]: r for r in rows[1:]}
    # numbers are numbers, NULL empty, formula-like text stays text; booleans Oui/Non
    assert by_label["+33 1 23 45 67 89"][1:] == (2.25, 4)
    assert by_label["plain text"][1:] == (None, None)
    assert list(book["other"].iter_rows(values_only=True)) == [
        ("n", "even"),
        (0, "Oui"),
        (1, "Non"),
        (2, "Oui"),
    ]
    formula = '=HYPERLINK("http://evil.example","clic")'
    cell = next(c for c in book["cells"]["A"] if c.value == formula)
    assert cell.data_type == "s"
    assert len(rows) == len(TRICKY) + 1


# --------------------------------------------------------------------------- BI access


def test_duckdb_python_reads_the_published_file(published: Path) -> None:
    con = duckdb.connect(str(published), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM marts.mart_cells").fetchone() == (len(TRICKY),)
    finally:
        con.close()


def test_sqlalchemy_through_duckdb_engine_reads_the_published_file(published: Path) -> None:
    import pandas as pd
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(f"duckdb:///{published}", connect_args={"read_only": True})
    try:
        with engine.connect() as connection:
            (n,) = connection.execute(
                text("SELECT count(*) FROM marts.mart_cells WHERE share > :s"), {"s": 1.0}
            ).one()
            assert n == 6
            frame = pd.read_sql(text("SELECT * FROM marts.mart_other ORDER BY n"), connection)
            assert list(frame["n"]) == [0, 1, 2]
        assert set(inspect(engine).get_table_names(schema="marts")) == {"mart_cells", "mart_other"}
    finally:
        engine.dispose()


def test_parquet_of_the_current_publication(published: Path) -> None:
    current = (published.parent / "current").resolve()  # resolve once, then read
    (n,) = duckdb.execute(f"SELECT count(*) FROM '{current}/parquet/mart_cells.parquet'").fetchone()
    assert n == len(TRICKY)


def test_sqlalchemy_core_on_declared_tables(published: Path) -> None:
    from sqlalchemy import Column, Float, MetaData, String, Table, create_engine, func, select

    engine = create_engine(f"duckdb:///{published}", connect_args={"read_only": True})
    cells = Table(
        "mart_cells", MetaData(), Column("label", String), Column("share", Float), schema="marts"
    )
    try:
        with engine.connect() as connection:
            total = connection.execute(select(func.sum(cells.c.share))).scalar()
        assert total == pytest.approx(sum(r[1] for r in TRICKY if r[1] is not None))
    finally:
        engine.dispose()


def test_sqlalchemy_column_reflection(published: Path) -> None:
    """Reflection works with the pinned SQLAlchemy (2.0.44; 2.0.45+ needs pg_collation)."""
    import pandas as pd
    from sqlalchemy import MetaData, Table, create_engine, inspect

    engine = create_engine(f"duckdb:///{published}", connect_args={"read_only": True})
    try:
        columns = inspect(engine).get_columns("mart_cells", schema="marts")
        cells = Table("mart_cells", MetaData(), schema="marts", autoload_with=engine)
        metadata = MetaData()
        metadata.reflect(bind=engine, schema="marts")
        with engine.connect() as connection:
            frame = pd.read_sql_table("mart_other", connection, schema="marts")
    finally:
        engine.dispose()
    assert [c["name"] for c in columns] == ["label", "share", "delta"]
    assert [str(c["type"]) for c in columns] == ["VARCHAR", "FLOAT", "INTEGER"]  # DOUBLE: FLOAT(53)
    assert list(cells.columns.keys()) == ["label", "share", "delta"]
    assert set(metadata.tables) == {"marts.mart_cells", "marts.mart_other"}
    assert sorted(frame["n"]) == [0, 1, 2]


DOC = Path(__file__).resolve().parents[1] / "docs" / "bi-access.md"


def _python_snippets(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.DOTALL)


def test_bi_access_python_snippets_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ```python block of docs/bi-access.md runs as written, in this venv, against
    a publication at the documented path (warehouse/published, relative to the cwd)."""
    working = tmp_path / "working.duckdb"
    con = duckdb.connect(str(working))
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.mart_theme_maturity AS SELECT * FROM (VALUES "
        "('2021', 'T01', 3.5), ('2021', 'T02', 2.5), ('2018', 'T01', 2.0)) "
        "AS t(edition_code, theme_code, mean_maturity)"
    )
    con.close()
    publish(working, tmp_path / "warehouse" / "published")
    monkeypatch.chdir(tmp_path)
    snippets = _python_snippets(DOC.read_text(encoding="utf-8"))
    assert len(snippets) == 4, "docs/bi-access.md's Python examples changed: update this test"
    results = []
    for snippet in snippets:
        code = snippet.replace("/absolute/path/to/warehouse", str(tmp_path / "warehouse"))
        namespace: dict = {}
        exec(compile(code, str(DOC), "exec"), namespace)  # our own documentation
        results.append(namespace)
    duckdb_python, sqlalchemy_query, reflection, parquet = results
    assert duckdb_python["con"] is not None
    assert sorted(sqlalchemy_query["frame"]["theme_code"]) == ["T01", "T02"]
    assert [c["name"] for c in reflection["columns"]] == [
        "edition_code",
        "theme_code",
        "mean_maturity",
    ]
    assert len(reflection["themes_table"].columns) == 3
    assert len(parquet["themes"]) == 3
