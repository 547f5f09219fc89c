"""What a load did (read back from the warehouse) or would do (a dry run, from the
staged tables): EditionLoad, with a FileResult per file."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from barometre.common.one_row import one_row
from barometre.ingest.errors import IngestError
from barometre.ingest.manifest import Manifest
from barometre.ingest.personal import mask_sql
from barometre.ingest.write import WAREHOUSE


@dataclass(frozen=True)
class FileResult:
    source_file: str
    content_sha256: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_counted: int
    """data rows counted independently of the reader (reconciled with rows_read)"""


@dataclass(frozen=True)
class EditionLoad:
    """What a load did, for the CLI summary and Dagster metadata."""

    edition_code: str
    layout: str
    files: tuple[FileResult, ...]
    respondents: int
    answers: int
    answer_states: dict[str, int] = field(default_factory=dict)
    quarantine_checks: dict[str, int] = field(default_factory=dict)
    quarantine: tuple[tuple, ...] = ()
    """(file, row, column, value, check, reason) of every quarantined row (dry runs)"""
    refused: str | None = None
    """why the edition would not be loaded (dry runs; a real load raises instead)"""

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


def load_summary(con: duckdb.DuckDBPyConnection, manifest: Manifest) -> EditionLoad:
    edition = manifest.edition
    files = tuple(
        FileResult(*row)
        for row in con.execute(
            f"""
            SELECT source_file, content_sha256, rows_read, rows_loaded, rows_quarantined,
                   rows_counted
            FROM {WAREHOUSE}.raw.load_log WHERE edition_code = ? ORDER BY source_file
        """,
            [edition],
        ).fetchall()
    )
    (respondents,) = one_row(
        con.execute(
            f"SELECT count(*) FROM {WAREHOUSE}.raw.responses WHERE edition_code = ?", [edition]
        )
    )
    states = dict(
        con.execute(
            f"""
        SELECT k.answer_state, sum(c.n)::BIGINT
        FROM (SELECT answer_key, count(*) AS n FROM {WAREHOUSE}.raw.answer_cells
              WHERE edition_code = $1 GROUP BY ALL) c
        JOIN {WAREHOUSE}.raw.answer_keys k ON k.edition_code = $1 AND k.answer_key = c.answer_key
        GROUP BY ALL ORDER BY 1""",
            [edition],
        ).fetchall()
    )
    checks = dict(
        con.execute(
            f"""
        SELECT check_name, count(*) FROM {WAREHOUSE}.raw.quarantine WHERE edition_code = ?
        GROUP BY ALL ORDER BY 1""",
            [edition],
        ).fetchall()
    )
    return EditionLoad(
        edition, manifest.layout, files, int(respondents), sum(states.values()), states, checks
    )


def dry_run_summary(
    con: duckdb.DuckDBPyConnection,
    manifest: Manifest,
    files: list[tuple[str, str, int, int]],
    refused: IngestError | None,
) -> EditionLoad:
    """What a load would do, from the staged tables (nothing written)."""
    per_file = []
    for source_file, sha, rows_read, rows_counted in files:
        loaded, quarantined = one_row(
            con.execute(
                """
            SELECT (SELECT count(*) FROM stage_ranked WHERE rank = 1 AND source_file = $f),
                   (SELECT count(DISTINCT source_row) FROM stage_quarantine
                    WHERE source_file = $f)""",
                {"f": source_file},
            )
        )
        per_file.append(FileResult(source_file, sha, rows_read, loaded, quarantined, rows_counted))
    checks = dict(
        con.execute(
            "SELECT check_name, count(*) FROM stage_quarantine GROUP BY ALL ORDER BY 1"
        ).fetchall()
    )
    (respondents,) = one_row(con.execute("SELECT count(*) FROM stage_ranked WHERE rank = 1"))
    entries = tuple(
        con.execute(f"""
        SELECT source_file, source_row, column_name, {mask_sql("value")}, check_name, reason
        FROM stage_quarantine ORDER BY source_file, source_row, check_name""").fetchall()
    )
    return EditionLoad(
        manifest.edition,
        manifest.layout,
        tuple(per_file),
        int(respondents),
        0,
        {},
        checks,
        entries,
        refused.render() if refused else None,
    )
