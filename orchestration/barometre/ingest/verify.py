"""Re-check what a load wrote: the row contract on the loaded rows and the per-file reconciliation.

These back the blocking Dagster asset checks of the ingestion asset: they read the
warehouse (not the load's own bookkeeping), so a bug in the loader cannot hide.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from barometre.common.one_row import one_row
from barometre.ingest.bounded import bounded_connection
from barometre.ingest.combinations import failing_combinations
from barometre.ingest.reference import load_reference


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


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
    """The loaded rows of `edition` hold to the row contract (pandera).

    As at ingestion, pandera validates the distinct combinations of the values its
    checks read (`combinations.py`), so memory does not grow with the rows.
    """
    from barometre.ingest.contract import answer_schema, response_schema

    reference = load_reference(seeds_dir, edition, with_names=False)  # no name to resolve
    with bounded_connection() as con:
        con.execute(f"ATTACH {_sql_str(str(warehouse))} AS wh (READ_ONLY)")
        responses = failing_combinations(
            con,
            """SELECT response_id, submitted_at, CAST(1 AS BIGINT) AS candidates, type_code,
                      count(*) OVER (PARTITION BY response_id) AS copies
               FROM wh.raw.responses WHERE edition_code = ?""",
            response_schema(reference),
            "bad_responses",
            [edition],
        )
        # Copies of a (response, question) key. First, per stored response (its key):
        # its answers against the number of distinct seed questions among them (a
        # bit set, one group per response, read from the integer cells: cheap). When they
        # agree for every response, and no response id repeats, every copy count is 1 and
        # the answers' combinations are the edition's decoded answers (raw.answer_keys
        # holds those of the stored answers, a superset of the visible ones: no rule is
        # skipped). Otherwise (a repeat, or a question outside the seeds) the copies are
        # counted exactly on raw.answers. The same pass counts the visible answers.
        codes = sorted({q.question_code for q in reference.questions}) or [""]
        distinct_keys, n_answers = one_row(
            con.execute(
                """WITH keyed AS (
                       SELECT k.answer_key, q.i
                       FROM wh.raw.answer_keys k LEFT JOIN (
                           SELECT $3[i] AS question_code, i FROM range(1, $2 + 1) t(i)
                       ) q USING (question_code)
                       WHERE k.edition_code = $1),
                   per_response AS (
                       SELECT c.response_key, count(*) AS n,
                              coalesce(bit_count(bitstring_agg(k.i, 1, $2)), 0) AS b
                       FROM wh.raw.answer_cells c JOIN keyed k USING (answer_key)
                       WHERE c.edition_code = $1 GROUP BY ALL)
                   SELECT count(*) FILTER (WHERE p.n <> p.b) = 0
                          AND count(DISTINCT r.response_id) = count(*),
                          coalesce(sum(p.n), 0)
                   FROM per_response p JOIN wh.raw.responses r
                     ON r.edition_code = $1 AND r.response_key = p.response_key""",
                [edition, len(codes), codes],
            )
        )
        rows = (
            """SELECT question_code, answer_state, level, CAST(1 AS BIGINT) AS copies
               FROM wh.raw.answer_keys WHERE edition_code = $1"""
            if distinct_keys
            else """SELECT a.question_code, a.answer_state, a.level,
                      coalesce(d.copies, 1) AS copies
               FROM wh.raw.answers a LEFT JOIN (
                   SELECT response_id, question_code, count(*) AS copies FROM wh.raw.answers
                   WHERE edition_code = $1 GROUP BY ALL HAVING count(*) > 1
               ) d USING (response_id, question_code)
               WHERE a.edition_code = $1"""
        )
        answers = failing_combinations(
            con, rows, answer_schema(reference), "bad_answers", [edition]
        )
        failures = sorted(
            rule
            for (rule,) in con.execute(
                "SELECT rule FROM bad_responses UNION SELECT rule FROM bad_answers"
            ).fetchall()
        )
        (n_responses,) = one_row(
            con.execute("SELECT count(*) FROM wh.raw.responses WHERE edition_code = ?", [edition])
        )
        # raw.answers is a view joining each stored answer to its key and its response
        # (ingest/raw_tables.py): an answer whose key or response is missing would drop
        # out of it silently, so the stored answers are counted too.
        (n_stored,) = one_row(
            con.execute(
                "SELECT count(*) FROM wh.raw.answer_cells WHERE edition_code = ?", [edition]
            )
        )
        quarantine = dict(
            con.execute(
                "SELECT check_name, count(*) FROM wh.raw.quarantine WHERE edition_code = ? "
                "GROUP BY ALL ORDER BY 1",
                [edition],
            ).fetchall()
        )
    expected = n_responses * len(reference.questions)
    details = {
        "responses": n_responses,
        "answers": n_answers,
        "answers_expected": expected,
        "answers_stored": n_stored,
        "failures": failures,
        "quarantined_by_check": quarantine,
        "combinations_validated": {"responses": responses, "answers": answers},
    }
    passed = not failures and n_answers == expected == n_stored
    return Verification(passed, details)
