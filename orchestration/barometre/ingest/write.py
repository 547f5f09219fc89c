"""Write an edition's checked rows to the warehouse: its previous rows replaced in one
transaction, reconciled inside it (rows read = loaded + quarantined = rows counted), so
a failure leaves them untouched."""

from __future__ import annotations

import duckdb

from barometre.common.one_row import one_row
from barometre.ingest.errors import IngestError
from barometre.ingest.manifest import Manifest
from barometre.ingest.personal import mask_sql
from barometre.ingest.raw_tables import WRITTEN_TABLES, create_raw_schema
from barometre.ingest.stage import count_mismatch

WAREHOUSE = "wh"


def write_edition(
    con: duckdb.DuckDBPyConnection, manifest: Manifest, files: list[tuple[str, str, int, int]]
) -> None:
    edition = manifest.edition
    create_raw_schema(con, WAREHOUSE)
    con.execute("BEGIN TRANSACTION")
    try:
        for table in WRITTEN_TABLES:
            con.execute(f"DELETE FROM {WAREHOUSE}.raw.{table} WHERE edition_code = ?", [edition])
        # Response keys unique in the warehouse: this load's 1…n after the other
        # editions' largest (one writer holds the file: no other load can interleave).
        (offset,) = one_row(
            con.execute(f"SELECT coalesce(max(response_key), 0) FROM {WAREHOUSE}.raw.responses")
        )
        con.execute(
            f"""
            INSERT INTO {WAREHOUSE}.raw.responses BY NAME
            SELECT ? AS edition_code, s.response_id, s.respondent_id, s.collectivity_name,
                   nullif(s.collectivity_type_raw, '') AS collectivity_type_raw,
                   coalesce(nullif(s.collectivity_type_raw, ''), s.reference_type) AS type_code,
                   s.started_at, s.submitted_at, s.source_file, s.source_row, ? AS layout,
                   ? + k.response_key AS response_key
            FROM stage_ranked s JOIN stage_kept k USING (source_file, source_row)
            WHERE s.rank = 1
        """,
            [edition, manifest.layout, offset],
        )
        # The answers as integers (raw_tables.py says why): row order in raw tables
        # carries no meaning, so DuckDB may write in parallel.
        con.execute("SET preserve_insertion_order = false")
        con.execute(
            f"INSERT INTO {WAREHOUSE}.raw.answer_cells "
            "SELECT ?, ? + response_key, answer_key FROM stage_kept_answers",
            [edition, offset],
        )
        con.execute("RESET preserve_insertion_order")
        # Only the keys some kept answer holds: a raw answer seen only in a quarantined
        # row is not written (the quarantine masks what it keeps of it).
        con.execute(
            f"""
            INSERT INTO {WAREHOUSE}.raw.answer_keys
            SELECT ?, answer_key, source_file, source_column, question_code, raw_answer,
                   answer_state, level
            FROM answer_lookup
            WHERE answer_key IN (SELECT DISTINCT answer_key FROM {WAREHOUSE}.raw.answer_cells
                                 WHERE edition_code = ?)
        """,
            [edition, edition],
        )
        con.execute(
            f"""
            INSERT INTO {WAREHOUSE}.raw.quarantine
            SELECT ?, source_file, source_row, column_name, {mask_sql("value")}, check_name,
                   reason, current_localtimestamp()
            FROM stage_quarantine
        """,
            [edition],
        )
        for source_file, sha, rows_read, rows_counted in files:
            con.execute(
                f"""
                INSERT INTO {WAREHOUSE}.raw.load_log
                SELECT ?, ?, ?, ?,
                       (SELECT count(*) FROM stage_ranked
                        WHERE rank = 1 AND source_file = ?),
                       (SELECT count(DISTINCT source_row) FROM stage_quarantine
                        WHERE source_file = ?),
                       current_localtimestamp(), ?
            """,
                [edition, source_file, sha, rows_read, source_file, source_file, rows_counted],
            )
        # Reconciliation: the rows the reader loaded are the rows the file holds (an
        # independent count), and each of them was loaded or quarantined.
        bad = con.execute(
            f"""
            SELECT source_file, rows_read, rows_loaded, rows_quarantined, rows_counted
            FROM {WAREHOUSE}.raw.load_log
            WHERE edition_code = ? AND (rows_read <> rows_loaded + rows_quarantined
                                        OR rows_read <> rows_counted)
        """,
            [edition],
        ).fetchone()
        if bad and bad[1] != bad[4]:
            raise count_mismatch(manifest, bad[0], bad[1], bad[4])
        if bad:
            raise IngestError(
                f"reconciliation failed: {bad[1]} rows read but {bad[2]} loaded + {bad[3]} "
                "quarantined; nothing was written",
                file=manifest.folder / bad[0],
                hint="this is a bug in the ingester: report it with the file",
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
