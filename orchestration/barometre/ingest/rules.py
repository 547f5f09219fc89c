"""The rules a staged row must pass to be loaded; each row that fails goes to
stage_quarantine with the rule and a reason.

The documented rules of the manifest (incomplete responses, a collectivity's superseded
submissions), then the pandera row contract (contract.py) on the distinct combinations
of values (combinations.py), never the whole table; and the share of bad rows above which
the whole edition is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from barometre.common.one_row import one_row
from barometre.ingest.combinations import failing_combinations, matches
from barometre.ingest.errors import IngestError
from barometre.ingest.manifest import Manifest
from barometre.ingest.reference import Reference
from barometre.ingest.sql import sql_str

if TYPE_CHECKING:
    import pandera.pandas as pa


INCOMPLETE_RULE = """
    -- Documented rule (manifest `completeness`; default: a response without submission
    -- date): an incomplete response is not loaded. The rule's column, value and reason
    -- are computed per export by stage._responses_select.
    SELECT source_file, source_row, complete_column AS column_name, complete_value AS value,
           'incomplete_response' AS check_name, complete_reason AS reason
    FROM stage_responses WHERE NOT is_complete
"""


NOT_QUARANTINED = """NOT EXISTS (
    SELECT 1 FROM stage_quarantine q
    WHERE q.source_file = {alias}.source_file AND q.source_row = {alias}.source_row)"""


def _quarantine_failures(
    con: duckdb.DuckDBPyConnection,
    rows: str,
    failing: str,
    schema: pa.DataFrameSchema,
    value_of: dict[str, str],
    column_of: dict[str, str] | None,
) -> None:
    """Append to stage_quarantine one entry per row of `rows` × rule it breaks.

    The rows are those whose values match a failing combination of `failing` (see
    `combinations.py`); the join happens in DuckDB. `value_of` names, per rule, the row
    column whose value the entry shows; `column_of` the export header of that column,
    or None when the rows name it themselves (`source_column`, answers).
    """
    from barometre.ingest.contract import RULES

    (failures,) = one_row(con.execute(f"SELECT count(*) FROM {failing}"))
    if not failures:  # no combination fails: no row to look for
        return

    def case(mapping: dict[str, str], quoted: bool) -> str:
        whens = " ".join(
            f"WHEN {sql_str(rule)} THEN {sql_str(v) if quoted else 'r.' + v}"
            for rule, v in mapping.items()
        )
        return f"CASE f.rule {whens} END"

    column = (
        "r.source_column"
        if column_of is None
        else case({r: column_of.get(v, v) for r, v in value_of.items()}, quoted=True)
    )
    reasons = case({name: rule.reason for name, rule in RULES.items()}, quoted=True)
    # Computed whole before it is appended: `rows` reads stage_quarantine.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE contract_entries AS
        SELECT r.source_file, r.source_row,
               {column} AS column_name, CAST({case(value_of, quoted=False)} AS VARCHAR) AS value,
               f.rule AS check_name, {reasons} AS reason
        FROM ({rows}) r JOIN {failing} f ON {matches(schema, "r", "f")}
    """)
    con.execute(
        "INSERT INTO stage_quarantine SELECT source_file, source_row, column_name, "
        "value, check_name, reason FROM contract_entries"
    )
    con.execute("DROP TABLE contract_entries")


def apply_rules(con: duckdb.DuckDBPyConnection, manifest: Manifest, reference: Reference) -> None:
    """Set aside incomplete responses, then hold every row to the contract (pandera).

    pandera sees the distinct combinations of the values its checks read, never the
    whole table (`combinations.py`); uniqueness is counted here, in DuckDB (`copies`).
    """
    from barometre.ingest.contract import (
        ANSWER_VALUE_COLUMNS,
        RESPONSE_VALUE_COLUMNS,
        answer_schema,
        response_schema,
    )

    resp = manifest.respondent
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stage_quarantine AS "
        + INCOMPLETE_RULE.format(sub_col=sql_str(resp["submitted_at"]))
    )

    responses = f"""
        SELECT s.source_file, s.source_row, s.response_id, s.submitted_raw, s.submitted_at,
               s.collectivity_name, CAST(n.candidates AS BIGINT) AS candidates,
               coalesce(nullif(s.collectivity_type_raw, ''), n.reference_type) AS type_code,
               count(*) OVER (PARTITION BY s.response_id) AS copies
        FROM stage_responses s JOIN name_resolution n USING (collectivity_name)
        WHERE {NOT_QUARANTINED.format(alias="s")}"""
    schema = response_schema(reference)
    failing_combinations(con, responses, schema, "failing_responses")
    _quarantine_failures(
        con,
        responses,
        "failing_responses",
        schema,
        RESPONSE_VALUE_COLUMNS,
        {
            "response_id": resp["response_id"],
            "submitted_raw": resp["submitted_at"],
            "collectivity_name": resp["collectivity"],
            "type_code": resp.get("type", "type_code"),
        },
    )

    # Two answers to one question of one response (kept only when > 1). The unpivot gives
    # one row per row and column of a file, so there can be none unless two columns of a
    # file answer one question or two files share a name: a cheap scan rules that out
    # before the exact count, a group per answer.
    (columns_per_question,) = one_row(
        con.execute("""
        SELECT coalesce(max(n), 1) FROM (
            SELECT count(DISTINCT source_column) AS n FROM stage_columns
            GROUP BY source_file, question_code)
    """)
    )
    names = [path.name for path in manifest.file_paths()]
    exact = columns_per_question > 1 or len(set(names)) < len(names)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE answer_copies (source_file VARCHAR, source_row INTEGER, "
        "question_code VARCHAR, copies BIGINT)"
    )
    if exact:
        con.execute("""
            INSERT INTO answer_copies
            SELECT source_file, source_row, question_code, count(*) AS copies
            FROM stage_answers GROUP BY ALL HAVING count(*) > 1
        """)
    copies = "coalesce(c.copies, 1)" if exact else "CAST(1 AS BIGINT)"
    join_copies = (
        "LEFT JOIN answer_copies c USING (source_file, source_row, question_code)" if exact else ""
    )
    answers = f"""
        SELECT a.source_file, a.source_row, a.source_column, a.question_code, a.raw_answer,
               coalesce(t.answer_state, 'unknown') AS answer_state,
               CAST(t.level AS INTEGER) AS level, {copies} AS copies
        FROM stage_answers a JOIN answer_tokens t USING (source_column, raw_answer)
        {join_copies}
        WHERE {NOT_QUARANTINED.format(alias="a")}"""
    # Without repeated questions every copy count is 1 and the combinations come from the
    # distinct (column, answer) pairs already decoded: a superset of those of the rows
    # (it includes the rows set aside above), so no pass over the answers is needed; a
    # combination that fails matches only the rows that really hold it.
    combinations = (
        answers
        if exact
        else """
        SELECT DISTINCT c.question_code, coalesce(t.answer_state, 'unknown') AS answer_state,
               CAST(t.level AS INTEGER) AS level, CAST(1 AS BIGINT) AS copies
        FROM answer_tokens t JOIN stage_columns c USING (source_column)"""
    )
    schema = answer_schema(reference)
    failing_combinations(con, combinations, schema, "failing_answers")
    _quarantine_failures(con, answers, "failing_answers", schema, ANSWER_VALUE_COLUMNS, None)

    # Documented duplicate rule (manifest `duplicates: latest_complete`): among the rows
    # that passed, the latest submission of a collectivity wins; ties go to the highest id.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stage_ranked AS
        SELECT s.*, n.respondent_id, n.reference_type,
               row_number() OVER w AS rank, first_value(s.response_id) OVER w AS kept_id
        FROM stage_responses s JOIN name_resolution n USING (collectivity_name)
        WHERE {NOT_QUARANTINED.format(alias="s")}
        WINDOW w AS (PARTITION BY n.respondent_id
                     ORDER BY s.submitted_at DESC, s.response_id DESC)
    """)
    con.execute(f"""
        INSERT INTO stage_quarantine
        SELECT source_file, source_row, {sql_str(resp["collectivity"])}, collectivity_name,
               'duplicate_submission',
               'the collectivity submitted again later (response ' || kept_id
               || '): only its latest complete submission is kept'
        FROM stage_ranked WHERE rank > 1
    """)
    con.execute("""
        INSERT INTO stage_kept
        SELECT source_file, source_row, response_id, respondent_id,
               row_number() OVER (ORDER BY source_file, source_row)
        FROM stage_ranked WHERE rank = 1""")


def bad_share_error(
    con: duckdb.DuckDBPyConnection,
    manifest: Manifest,
    files: list[tuple[str, str, int, int]],
    max_bad_share: float,
) -> IngestError | None:
    """Refuse the whole edition when too many rows break the contract.

    Rows set aside by the documented rules (incomplete, superseded duplicates) are
    expected and do not count as bad.
    """
    rows_read = sum(f[2] for f in files)
    bad, sample = one_row(
        con.execute("""
        SELECT count(DISTINCT source_file || ':' || source_row),
               string_agg(DISTINCT check_name, ', ' ORDER BY check_name)
        FROM stage_quarantine
        WHERE check_name NOT IN ('incomplete_response', 'duplicate_submission')
    """)
    )
    if rows_read and bad / rows_read > max_bad_share:
        return IngestError(
            f"{bad} of {rows_read} rows ({bad / rows_read:.1%}) break the row contract "
            f"({sample}), above the {max_bad_share:.0%} allowed: the edition is not loaded "
            "and its previous load stays in place",
            file=manifest.folder,
            hint=f"run `barometre validate {manifest.folder}` to list every failing row, fix "
            "the export (or the seeds), then run again",
        )
    return None
