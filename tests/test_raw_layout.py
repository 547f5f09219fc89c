"""The answers' storage in the warehouse (ingest/raw_tables.py): raw.answers is a view
over integer answer cells and a small table of decoded answers; warehouses written with
the earlier raw.answers table are migrated to it with the same rows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from barometre.ingest.errors import IngestError
from barometre.ingest.load import load_edition
from barometre.ingest.raw_tables import RAW_TABLES, create_raw_schema
from tests.factories import SEEDS, Response, write_surveymonkey
from tests.test_ingest import lime_2021, rows

ANSWERS = "SELECT * FROM raw.answers ORDER BY ALL"


def _to_old_layout(warehouse: Path) -> None:
    """Rewrite a warehouse as the releases before session 6 wrote it: raw.answers a table."""
    con = duckdb.connect(str(warehouse))
    con.execute(f"CREATE TABLE raw.answers_old ({RAW_TABLES['answers']})")
    con.execute("INSERT INTO raw.answers_old SELECT * FROM raw.answers")
    con.execute("DROP VIEW raw.answers")
    con.execute("DROP TABLE raw.answer_cells")
    con.execute("DROP TABLE raw.answer_keys")
    con.execute("ALTER TABLE raw.answers_old RENAME TO answers")
    con.execute("ALTER TABLE raw.responses DROP COLUMN response_key")
    con.close()


def _migrate(warehouse: Path) -> None:
    con = duckdb.connect()
    con.execute(f"ATTACH '{warehouse}' AS wh")
    try:
        create_raw_schema(con, "wh")
    finally:
        con.close()


def test_answers_view_has_the_source_columns_and_only_kept_answers(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    load_edition(lime_2021(tmp_path), warehouse, SEEDS)
    columns = [r[0] for r in rows(warehouse, "DESCRIBE raw.answers")]
    assert columns == [line.split()[0] for line in RAW_TABLES["answers"].strip().splitlines()]
    # Each stored answer joins its key and its response; no key is stored that no kept
    # answer holds (the quarantined responses answered A1 and A5).
    assert rows(warehouse, "SELECT count(*) FROM raw.answer_cells") == rows(
        warehouse, "SELECT count(*) FROM raw.answers"
    )
    kept = {r for (r,) in rows(warehouse, "SELECT DISTINCT raw_answer FROM raw.answers")}
    keys = {r for (r,) in rows(warehouse, "SELECT raw_answer FROM raw.answer_keys")}
    assert keys == kept and not keys & {"A1", "A5"}
    ids = rows(warehouse, "SELECT DISTINCT response_id, respondent_id FROM raw.answers ORDER BY 1")
    assert ids == rows(warehouse, "SELECT response_id, respondent_id FROM raw.responses ORDER BY 1")


def test_the_view_reads_the_same_under_any_attached_name(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    load_edition(lime_2021(tmp_path), warehouse, SEEDS)
    expected = rows(warehouse, ANSWERS)
    con = duckdb.connect()
    con.execute(f"ATTACH '{warehouse}' AS elsewhere (READ_ONLY)")
    con.execute("CREATE SCHEMA raw")  # a same-named schema in the default catalog
    con.execute(f"CREATE TABLE raw.answer_cells ({RAW_TABLES['load_log']})")
    assert con.execute("SELECT * FROM elsewhere.raw.answers ORDER BY ALL").fetchall() == expected
    con.close()


def test_a_warehouse_with_the_old_answers_table_is_migrated(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    load_edition(lime_2021(tmp_path), warehouse, SEEDS)
    expected = rows(warehouse, ANSWERS)
    _to_old_layout(warehouse)
    kind = "SELECT table_type FROM information_schema.tables WHERE table_name = 'answers'"
    assert rows(warehouse, kind) == [("BASE TABLE",)]
    _migrate(warehouse)
    assert rows(warehouse, kind) == [("VIEW",)]
    assert rows(warehouse, ANSWERS) == expected
    _migrate(warehouse)  # idempotent
    assert rows(warehouse, ANSWERS) == expected
    # The next load (of any edition) also migrates, then replaces the edition as always.
    _to_old_layout(warehouse)
    load_edition(lime_2021(tmp_path / "again"), warehouse, SEEDS)
    assert rows(warehouse, ANSWERS) == expected


def test_a_migration_that_would_lose_answers_changes_nothing(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    load_edition(lime_2021(tmp_path), warehouse, SEEDS)
    _to_old_layout(warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute("DELETE FROM raw.responses WHERE respondent_id = '244400404'")
    con.close()
    before = rows(warehouse, ANSWERS)
    with pytest.raises(IngestError, match=r"have no response in raw\.responses"):
        _migrate(warehouse)
    assert rows(warehouse, ANSWERS) == before
    assert rows(warehouse, "SELECT count(*) FROM raw.answer_keys") == [(0,)]


def test_response_keys_stay_unique_when_an_edition_is_reloaded(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    folder = lime_2021(tmp_path)
    load_edition(folder, warehouse, SEEDS)
    load_edition(
        write_surveymonkey(
            tmp_path / "raw" / "2018",
            [Response("MEL", answer="3", submitted="03/02/2018 10:00:00 AM")],
        ),
        warehouse,
        SEEDS,
    )
    expected = rows(warehouse, ANSWERS)
    load_edition(folder, warehouse, SEEDS)  # 2021 again, after 2018's keys
    keys = "SELECT count(*), count(DISTINCT response_key), count(response_key) FROM raw.responses"
    assert rows(warehouse, keys) == [(4, 4, 4)]
    assert rows(warehouse, ANSWERS) == expected
    by_edition = "SELECT edition_code, count(*) FROM raw.answer_cells GROUP BY 1 ORDER BY 1"
    assert rows(warehouse, by_edition) == rows(
        warehouse, "SELECT edition_code, count(*) FROM raw.answers GROUP BY 1 ORDER BY 1"
    )


def test_the_spark_export_holds_the_source_layout(tmp_path: Path) -> None:
    from barometre.engines.spark.raw_parquet import export_raw_parquet

    warehouse = tmp_path / "wh.duckdb"
    load_edition(lime_2021(tmp_path), warehouse, SEEDS)
    out = tmp_path / "parquet"
    exported = export_raw_parquet(warehouse, out)
    assert sorted(exported) == sorted(RAW_TABLES)  # the answer tables are not exported
    con = duckdb.connect()
    for table, ddl in RAW_TABLES.items():
        described = con.execute(f"DESCRIBE SELECT * FROM '{out / table / 'part-0.parquet'}'")
        assert [c[0] for c in described.fetchall()] == [
            line.split()[0] for line in ddl.strip().splitlines()
        ]
    answers = con.execute(f"SELECT * FROM '{out / 'answers' / 'part-0.parquet'}' ORDER BY ALL")
    assert answers.fetchall() == rows(warehouse, ANSWERS)
