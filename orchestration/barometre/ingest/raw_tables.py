"""DDL of the raw schema: the one place its tables are defined (docs/architecture.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

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


def create_raw_schema(con: duckdb.DuckDBPyConnection, catalog: str) -> None:
    """Create schema raw and its tables in `catalog` if they do not exist yet."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {catalog}.raw")
    for name, columns in RAW_TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {catalog}.raw.{name} ({columns})")
    # Added after the first release: warehouses created before get the column (NULL for
    # their earlier loads, which the next load of each edition replaces).
    con.execute(f"ALTER TABLE {catalog}.raw.load_log ADD COLUMN IF NOT EXISTS rows_counted INTEGER")
