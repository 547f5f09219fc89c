"""DDL of the raw schema: the one place its tables are defined (docs/architecture.md).

`RAW_TABLES` is the raw layer as every reader sees it (the dbt source `raw`, the
PostgreSQL server's tables, the Spark export). In the DuckDB warehouse `raw.answers` is
a view over two narrower tables (`ANSWER_STORAGE`): one row per answer holding only
integers (`answer_cells`: the response's key, a key of the edition's decoded answers)
and a small per-edition table of those decoded answers (`answer_keys`: file, column,
question, raw answer, state, level). Writing ten text columns per answer was about half
of an ingestion's CPU (docs/performance.md, "Session 6: P2"); the view joins the
response's ids, file and row back from `raw.responses` by its `response_key` (a column
of the DuckDB table only: one integer, unique in the warehouse, so the join is cheap).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from barometre.ingest.errors import IngestError

if TYPE_CHECKING:
    import duckdb

RAW_TABLES: dict[str, str] = {
    "responses": """
        edition_code VARCHAR NOT NULL,
        response_id VARCHAR NOT NULL,
        respondent_id VARCHAR NOT NULL,
        collectivity_name VARCHAR NOT NULL,
        collectivity_type_raw VARCHAR,
        type_code VARCHAR NOT NULL,
        started_at TIMESTAMP,
        submitted_at TIMESTAMP NOT NULL,
        source_file VARCHAR NOT NULL,
        source_row INTEGER NOT NULL,
        layout VARCHAR NOT NULL""",
    "answers": """
        edition_code VARCHAR NOT NULL,
        response_id VARCHAR NOT NULL,
        respondent_id VARCHAR NOT NULL,
        question_code VARCHAR NOT NULL,
        source_column VARCHAR NOT NULL,
        raw_answer VARCHAR NOT NULL,
        answer_state VARCHAR NOT NULL,
        level INTEGER,
        source_file VARCHAR NOT NULL,
        source_row INTEGER NOT NULL""",
    "quarantine": """
        edition_code VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL,
        source_row INTEGER NOT NULL,
        column_name VARCHAR,
        value VARCHAR,
        check_name VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        quarantined_at TIMESTAMP NOT NULL""",
    "load_log": """
        edition_code VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL,
        content_sha256 VARCHAR NOT NULL,
        rows_read INTEGER NOT NULL,
        rows_loaded INTEGER NOT NULL,
        rows_quarantined INTEGER NOT NULL,
        loaded_at TIMESTAMP NOT NULL,
        rows_counted INTEGER""",
}

ANSWER_STORAGE: dict[str, str] = {
    # One row per answer: its response (raw.responses.response_key) and decoded answer.
    "answer_cells": """
        edition_code VARCHAR NOT NULL,
        response_key BIGINT NOT NULL,
        answer_key INTEGER NOT NULL""",
    # One row per (file, column, raw answer) of the edition that some kept answer holds.
    "answer_keys": """
        edition_code VARCHAR NOT NULL,
        answer_key INTEGER NOT NULL,
        source_file VARCHAR NOT NULL,
        source_column VARCHAR NOT NULL,
        question_code VARCHAR NOT NULL,
        raw_answer VARCHAR NOT NULL,
        answer_state VARCHAR NOT NULL,
        level INTEGER""",
}

# Columns of the DuckDB tables that are not part of the source `raw` (exports leave
# them out: PostgreSQL copies RAW_TABLES' columns, the Spark export skips these).
STORAGE_ONLY_COLUMNS: dict[str, tuple[str, ...]] = {"responses": ("response_key",)}

# Unqualified names: DuckDB binds a view's tables in the view's own catalog, whatever
# name the file is attached under.
ANSWERS_VIEW = """
    SELECT c.edition_code, r.response_id, r.respondent_id, k.question_code, k.source_column,
           k.raw_answer, k.answer_state, k.level, r.source_file, r.source_row
    FROM raw.answer_cells c
    JOIN raw.answer_keys k ON k.edition_code = c.edition_code AND k.answer_key = c.answer_key
    JOIN raw.responses r ON r.response_key = c.response_key"""

# Tables an edition's load replaces (raw.answers is the view over the answer tables).
WRITTEN_TABLES = ("responses", *ANSWER_STORAGE, "quarantine", "load_log")


def create_raw_schema(con: duckdb.DuckDBPyConnection, catalog: str) -> None:
    """Create schema raw, its tables and the view raw.answers in `catalog` if they do not
    exist yet; a warehouse written before raw.answers became a view is migrated."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {catalog}.raw")
    for name, columns in RAW_TABLES.items():
        if name != "answers":
            con.execute(f"CREATE TABLE IF NOT EXISTS {catalog}.raw.{name} ({columns})")
    for name, columns in ANSWER_STORAGE.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {catalog}.raw.{name} ({columns})")
    # Added after the first release: warehouses created before get the column (NULL for
    # their earlier loads, which the next load of each edition replaces).
    con.execute(f"ALTER TABLE {catalog}.raw.load_log ADD COLUMN IF NOT EXISTS rows_counted INTEGER")
    # The DuckDB table only (not in RAW_TABLES: the dbt source and the exports leave it
    # out): the key the
    # answer cells point to, unique in the warehouse (write.py numbers each load's
    # responses after the largest key of the other editions).
    con.execute(f"ALTER TABLE {catalog}.raw.responses ADD COLUMN IF NOT EXISTS response_key BIGINT")
    kind = con.execute(
        "SELECT table_type FROM information_schema.tables "
        "WHERE table_catalog = ? AND table_schema = 'raw' AND table_name = 'answers'",
        [catalog],
    ).fetchone()
    if kind is not None and kind[0] == "BASE TABLE":
        _migrate_answers_table(con, catalog)
    else:  # replaced every load: the view always is this code's definition
        con.execute(f"CREATE OR REPLACE VIEW {catalog}.raw.answers AS {ANSWERS_VIEW}")


def _migrate_answers_table(con: duckdb.DuckDBPyConnection, catalog: str) -> None:
    """Move the rows of a raw.answers table (warehouses written before session 6) into
    the answer tables and replace it by the view, in one transaction: the same rows
    come back through the view (tests/test_raw_layout.py)."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"""
            UPDATE {catalog}.raw.responses SET response_key = s.k
            FROM (SELECT rowid AS id, row_number() OVER () AS k FROM {catalog}.raw.responses) s
            WHERE {catalog}.raw.responses.rowid = s.id""")
        con.execute(f"""
            INSERT INTO {catalog}.raw.answer_keys
            SELECT edition_code,
                   CAST(row_number() OVER (PARTITION BY edition_code) AS INTEGER),
                   source_file, source_column, question_code, raw_answer, answer_state, level
            FROM (SELECT DISTINCT edition_code, source_file, source_column, question_code,
                                  raw_answer, answer_state, level
                  FROM {catalog}.raw.answers)""")
        con.execute(f"""
            INSERT INTO {catalog}.raw.answer_cells
            SELECT a.edition_code, r.response_key, k.answer_key
            FROM {catalog}.raw.answers a JOIN {catalog}.raw.answer_keys k
              ON k.edition_code = a.edition_code AND k.source_file = a.source_file
             AND k.source_column = a.source_column AND k.question_code = a.question_code
             AND k.raw_answer = a.raw_answer AND k.answer_state = a.answer_state
             AND k.level IS NOT DISTINCT FROM a.level
            JOIN {catalog}.raw.responses r
              ON r.edition_code = a.edition_code AND r.source_file = a.source_file
             AND r.source_row = a.source_row""")
        (lost,) = con.execute(f"""
            SELECT (SELECT count(*) FROM {catalog}.raw.answers) - count(*)
            FROM {catalog}.raw.answers a JOIN {catalog}.raw.responses r
              ON r.edition_code = a.edition_code AND r.source_file = a.source_file
             AND r.source_row = a.source_row AND r.response_id = a.response_id
             AND r.respondent_id = a.respondent_id""").fetchone() or (0,)
        if lost:
            raise IngestError(
                f"cannot move raw.answers to the current layout: {lost} answers have no "
                "response in raw.responses; nothing was changed",
                hint="the warehouse was altered by hand: move it aside and run "
                "`barometre run` again, which reloads every edition from data/raw",
            )
        con.execute(f"DROP TABLE {catalog}.raw.answers")
        con.execute(f"CREATE VIEW {catalog}.raw.answers AS {ANSWERS_VIEW}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
