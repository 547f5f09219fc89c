"""Re-check what a load wrote: the row contract on the loaded rows and the per-file reconciliation.

These back the blocking Dagster asset checks of the ingestion asset: they read the
warehouse (not the load's own bookkeeping), so a bug in the loader cannot hide.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from barometre.ingest.contract import (
    ANSWER_VALUE_COLUMNS,
    RESPONSE_VALUE_COLUMNS,
    answer_schema,
    contract_failures,
    response_schema,
)
from barometre.ingest.reference import load_reference


@dataclass(frozen=True)
class Verification:
    passed: bool
    details: dict


def verify_reconciliation(warehouse: Path, edition: str) -> Verification:
    """rows read = rows counted (independently of the reader) = rows loaded + rows quarantined,
    for every file of the edition's last load."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            """
            SELECT l.source_file, l.rows_read, l.rows_loaded, l.rows_quarantined, l.rows_counted,
                   (SELECT count(*) FROM raw.responses r WHERE r.edition_code = l.edition_code
                    AND r.source_file = l.source_file) AS loaded_now,
                   (SELECT count(DISTINCT q.source_row) FROM raw.quarantine q
                    WHERE q.edition_code = l.edition_code AND q.source_file = l.source_file)
                    AS quarantined_now
            FROM raw.load_log l WHERE l.edition_code = ? ORDER BY 1""",
            [edition],
        ).fetchall()
    finally:
        con.close()
    files = {
        f: {"read": read, "counted": counted, "loaded": loaded, "quarantined": quarantined}
        for f, read, loaded, quarantined, counted, _, _ in rows
    }
    passed = bool(rows) and all(
        read == counted == loaded + quarantined and loaded == loaded_now and quarantined == quar_now
        for _, read, loaded, quarantined, counted, loaded_now, quar_now in rows
    )
    return Verification(passed, files)


def verify_row_contract(warehouse: Path, seeds_dir: Path, edition: str) -> Verification:
    """The loaded rows of `edition` hold to the row contract (pandera)."""
    reference = load_reference(seeds_dir, edition)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        responses = con.execute(
            """
            SELECT response_id, submitted_at, collectivity_name AS submitted_raw,
                   collectivity_name, CAST(1 AS BIGINT) AS candidates, type_code
            FROM raw.responses WHERE edition_code = ? ORDER BY response_id""",
            [edition],
        ).df()
        answers = con.execute(
            """
            SELECT response_id AS response_key, question_code, answer_state, level, raw_answer
            FROM raw.answers WHERE edition_code = ? ORDER BY response_id, question_code""",
            [edition],
        ).df()
        quarantine = dict(
            con.execute(
                "SELECT check_name, count(*) FROM raw.quarantine WHERE edition_code = ? "
                "GROUP BY ALL ORDER BY 1",
                [edition],
            ).fetchall()
        )
    finally:
        con.close()
    bad_responses = contract_failures(responses, response_schema(reference), RESPONSE_VALUE_COLUMNS)
    bad_answers = contract_failures(answers, answer_schema(reference), ANSWER_VALUE_COLUMNS)
    expected = len(responses) * len(reference.questions)
    details = {
        "responses": len(responses),
        "answers": len(answers),
        "answers_expected": expected,
        "failures": sorted({*bad_responses["rule"], *bad_answers["rule"]}),
        "quarantined_by_check": quarantine,
    }
    passed = bad_responses.empty and bad_answers.empty and len(answers) == expected
    return Verification(passed, details)
