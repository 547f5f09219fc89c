"""Load one edition folder into the raw schema: every row read is loaded or quarantined.

The work happens in an in-memory DuckDB connection, so personal columns never
touch the warehouse file; only the final, checked rows are written, replacing the
edition's previous rows in one transaction (a failure leaves them untouched).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from barometre.ingest.columns import ColumnPlan, plan_columns
from barometre.ingest.errors import IngestError
from barometre.ingest.manifest import Manifest, load_manifest
from barometre.ingest.raw_tables import create_raw_schema
from barometre.ingest.read_export import ExportTable, read_export
from barometre.ingest.reference import Reference, load_reference
from barometre.ingest.text import normalize_name, normalize_text

WAREHOUSE = "wh"


@dataclass(frozen=True)
class FileResult:
    source_file: str
    content_sha256: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int


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

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _responses_select(export: ExportTable, plan: ColumnPlan, manifest: Manifest,
                      source_file: str) -> str:
    def col(field_name: str) -> str:
        header = plan.respondent.get(field_name)
        return f"trim(coalesce({export.column_of(header)}, ''))" if header else "NULL"

    fmt = _sql_str(manifest.timestamp_format)
    return f"""
        SELECT {_sql_str(source_file)} AS source_file, source_row,
               {col('response_id')} AS response_id,
               {col('collectivity')} AS collectivity_name,
               {col('type')} AS collectivity_type_raw,
               {col('started_at')} AS started_raw,
               {col('submitted_at')} AS submitted_raw,
               try_strptime({col('started_at')}, {fmt}) AS started_at,
               try_strptime({col('submitted_at')}, {fmt}) AS submitted_at
        FROM {export.table}"""


def _answers_select(export: ExportTable, plan: ColumnPlan, source_file: str) -> str:
    """Long form of the question columns (one row per response × question)."""
    parts = [
        f"SELECT source_row, {_sql_str(header)} AS source_column, "
        f"{_sql_str(question.question_code)} AS question_code, "
        f"coalesce({export.column_of(header)}, '') AS raw_answer FROM {export.table}"
        for header, question in plan.questions.items()
    ]
    union = "\nUNION ALL\n".join(parts)
    return f"SELECT {_sql_str(source_file)} AS source_file, * FROM ({union})"


def _register_rows(con: duckdb.DuckDBPyConnection, name: str, columns: list[str],
                   rows: list[tuple]) -> None:
    """Make a small Python lookup (distinct names or tokens) a DuckDB table."""
    cols = ", ".join(f"{c} VARCHAR" for c in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({cols})")
    if rows:
        con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' for _ in columns)})", rows)


def _resolve_collectivities(con: duckdb.DuckDBPyConnection, reference: Reference) -> None:
    names = [r[0] for r in con.execute(
        "SELECT DISTINCT collectivity_name FROM stage_responses").fetchall()]
    rows = []
    for name in names:
        candidates = reference.names.get(normalize_name(name), ())
        sirens = sorted({c.siren for c in candidates})
        rows.append((name, sirens[0] if len(sirens) == 1 else None,
                     candidates[0].type_code if len(sirens) == 1 else None, str(len(sirens))))
    _register_rows(con, "name_resolution",
                   ["collectivity_name", "respondent_id", "reference_type", "candidates"], rows)


def _answer_tokens(con: duckdb.DuckDBPyConnection, manifest: Manifest,
                   reference: Reference) -> None:
    """Decode each distinct raw answer to (state, level) from the manifest and the seeds."""
    if manifest.answer_encoding == "codes":
        levels = {normalize_text(code): level for code, level in manifest.answer_codes.items()}
    else:
        levels = {normalize_text(label): level for level, label in reference.level_labels.items()}
    not_concerned = {normalize_text(t) for t in manifest.not_concerned}
    no_answer = {normalize_text(t) for t in manifest.no_answer} | {""}
    rows = []
    for (raw,) in con.execute("SELECT DISTINCT raw_answer FROM stage_answers").fetchall():
        key = normalize_text(raw)
        if key in no_answer:
            rows.append((raw, "no_answer", None))
        elif key in not_concerned:
            rows.append((raw, "not_concerned", None))
        elif key in levels:
            rows.append((raw, "answered", str(levels[key])))
        else:
            rows.append((raw, None, None))
    _register_rows(con, "answer_tokens", ["raw_answer", "answer_state", "level"], rows)


def _check_manifest_against_seeds(manifest: Manifest, reference: Reference) -> None:
    if manifest.answer_encoding == "codes":
        outside = {c: lvl for c, lvl in manifest.answer_codes.items()
                   if not 1 <= lvl <= reference.scale_size}
        if outside:
            raise IngestError(
                f"answers.codes maps {outside} outside the edition's scale "
                f"1..{reference.scale_size} (seeds/editions.csv)",
                file=manifest.path, hint="the manifest and the seeds disagree: fix one of them",
            )


QUARANTINE_RULES = """
    -- One row per failed check; a response row may fail several.
    SELECT source_file, source_row, {resp_col} AS column_name, response_id AS value,
           'missing_response_id' AS check_name,
           'the response has no id: it cannot be told apart from others' AS reason
    FROM stage_responses WHERE response_id = ''
    UNION ALL
    SELECT source_file, source_row, {sub_col}, submitted_raw, 'incomplete_response',
           'response not submitted (empty ' || {sub_col} || '): incomplete responses are '
           || 'not loaded'
    FROM stage_responses WHERE submitted_raw = ''
    UNION ALL
    SELECT source_file, source_row, {sub_col}, submitted_raw, 'unreadable_timestamp',
           'submission date does not match timestamp_format ' || {fmt} || ' of manifest.yml'
    FROM stage_responses WHERE submitted_raw <> '' AND submitted_at IS NULL
    UNION ALL
    SELECT s.source_file, s.source_row, {col_col}, s.collectivity_name,
           CASE WHEN n.candidates = '0' THEN 'unknown_collectivity'
                ELSE 'ambiguous_collectivity' END,
           CASE WHEN n.candidates = '0'
                THEN 'collectivity not found in seeds/collectivities.csv nor '
                     || 'seeds/collectivity_aliases.csv: add an alias row with its SIREN'
                ELSE 'collectivity name matches several SIRENs in the reference: add an '
                     || 'alias row in seeds/collectivity_aliases.csv to say which one' END
    FROM stage_responses s JOIN name_resolution n USING (collectivity_name)
    WHERE n.respondent_id IS NULL
"""


def _stage_edition(con: duckdb.DuckDBPyConnection, manifest: Manifest,
                   reference: Reference) -> list[tuple[str, str, int]]:
    """Read every file into stage_responses / stage_answers; return (file, sha, rows_read)."""
    _check_manifest_against_seeds(manifest, reference)
    files = []
    responses, answers = [], []
    for index, path in enumerate(manifest.file_paths()):
        export = read_export(con, path, manifest, f"export_{index}")
        plan = plan_columns(path, export.headers, manifest, reference)
        responses.append(_responses_select(export, plan, manifest, path.name))
        answers.append(_answers_select(export, plan, path.name))
        files.append((path.name, hashlib.sha256(path.read_bytes()).hexdigest(),
                      export.rows_read))
    con.execute("CREATE OR REPLACE TEMP TABLE stage_responses AS "
                + "\nUNION ALL\n".join(responses))
    con.execute("CREATE OR REPLACE TEMP TABLE stage_answers AS "
                + "\nUNION ALL\n".join(answers))
    return files


def _apply_rules(con: duckdb.DuckDBPyConnection, manifest: Manifest,
                 reference: Reference) -> None:
    """Quarantine rows that break a rule; keep one complete response per collectivity."""
    _resolve_collectivities(con, reference)
    resp = manifest.respondent
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stage_quarantine AS "
        + QUARANTINE_RULES.format(
            resp_col=_sql_str(resp["response_id"]), sub_col=_sql_str(resp["submitted_at"]),
            col_col=_sql_str(resp["collectivity"]), fmt=_sql_str(manifest.timestamp_format))
    )
    # Duplicate rule (manifest `duplicates: latest_complete`): among the rows that pass,
    # the latest submission of a collectivity wins; ties go to the highest response id.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE stage_ranked AS
        SELECT s.*, n.respondent_id, n.reference_type,
               row_number() OVER (PARTITION BY n.respondent_id
                                  ORDER BY s.submitted_at DESC, s.response_id DESC) AS rank,
               first_value(s.response_id) OVER (PARTITION BY n.respondent_id
                                  ORDER BY s.submitted_at DESC, s.response_id DESC) AS kept_id
        FROM stage_responses s JOIN name_resolution n USING (collectivity_name)
        WHERE NOT EXISTS (SELECT 1 FROM stage_quarantine q
                          WHERE q.source_file = s.source_file AND q.source_row = s.source_row)
    """)
    con.execute(f"""
        INSERT INTO stage_quarantine
        SELECT source_file, source_row, {_sql_str(resp['collectivity'])}, collectivity_name,
               'duplicate_submission',
               'the collectivity submitted again later (response ' || kept_id
               || '): only its latest complete submission is kept'
        FROM stage_ranked WHERE rank > 1
    """)


def _check_answers(con: duckdb.DuckDBPyConnection, manifest: Manifest) -> None:
    unknown = con.execute("""
        SELECT a.source_file, a.source_row, a.source_column, a.raw_answer, count(*) OVER ()
        FROM stage_answers a JOIN answer_tokens t USING (raw_answer)
        JOIN stage_ranked r ON r.source_file = a.source_file AND r.source_row = a.source_row
        WHERE t.answer_state IS NULL AND r.rank = 1
        ORDER BY a.source_file, a.source_row LIMIT 1
    """).fetchone()
    if unknown:
        source_file, row, column, value, count = unknown
        known = (sorted(manifest.answer_codes) if manifest.answer_encoding == "codes"
                 else "the level labels of seeds/scale_levels.csv")
        raise IngestError(
            f"answer not known to the manifest ({count} cell(s) in all); expected {known}, "
            f"a not-concerned token {list(manifest.not_concerned)} or a no-answer token "
            f"{list(manifest.no_answer)}",
            file=manifest.folder / source_file, row=row, column=column, value=value,
            hint="add the token to `answers:` in manifest.yml if it is legitimate, otherwise "
            "correct the export",
        )


def _write(con: duckdb.DuckDBPyConnection, manifest: Manifest,
           files: list[tuple[str, str, int]]) -> None:
    edition = manifest.edition
    create_raw_schema(con, WAREHOUSE)
    con.execute("BEGIN TRANSACTION")
    try:
        for table in ("responses", "answers", "quarantine", "load_log"):
            con.execute(f"DELETE FROM {WAREHOUSE}.raw.{table} WHERE edition_code = ?", [edition])
        con.execute(f"""
            INSERT INTO {WAREHOUSE}.raw.responses
            SELECT ?, response_id, respondent_id, collectivity_name,
                   nullif(collectivity_type_raw, ''),
                   coalesce(nullif(collectivity_type_raw, ''), reference_type),
                   started_at, submitted_at, source_file, source_row, ?
            FROM stage_ranked WHERE rank = 1
        """, [edition, manifest.layout])
        con.execute(f"""
            INSERT INTO {WAREHOUSE}.raw.answers
            SELECT ?, r.response_id, r.respondent_id, a.question_code, a.source_column,
                   a.raw_answer, t.answer_state, CAST(t.level AS INTEGER),
                   a.source_file, a.source_row
            FROM stage_answers a
            JOIN stage_ranked r ON r.source_file = a.source_file AND r.source_row = a.source_row
            JOIN answer_tokens t USING (raw_answer)
            WHERE r.rank = 1
        """, [edition])
        con.execute(f"""
            INSERT INTO {WAREHOUSE}.raw.quarantine
            SELECT ?, source_file, source_row, column_name, value, check_name, reason,
                   current_localtimestamp()
            FROM stage_quarantine
        """, [edition])
        for source_file, sha, rows_read in files:
            con.execute(f"""
                INSERT INTO {WAREHOUSE}.raw.load_log
                SELECT ?, ?, ?, ?,
                       (SELECT count(*) FROM stage_ranked
                        WHERE rank = 1 AND source_file = ?),
                       (SELECT count(DISTINCT source_row) FROM stage_quarantine
                        WHERE source_file = ?),
                       current_localtimestamp()
            """, [edition, source_file, sha, rows_read, source_file, source_file])
        bad = con.execute(f"""
            SELECT source_file, rows_read, rows_loaded, rows_quarantined
            FROM {WAREHOUSE}.raw.load_log
            WHERE edition_code = ? AND rows_read <> rows_loaded + rows_quarantined
        """, [edition]).fetchone()
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


def _summary(con: duckdb.DuckDBPyConnection, manifest: Manifest) -> EditionLoad:
    edition = manifest.edition
    files = tuple(
        FileResult(*row) for row in con.execute(f"""
            SELECT source_file, content_sha256, rows_read, rows_loaded, rows_quarantined
            FROM {WAREHOUSE}.raw.load_log WHERE edition_code = ? ORDER BY source_file
        """, [edition]).fetchall()
    )
    (respondents,) = con.execute(
        f"SELECT count(*) FROM {WAREHOUSE}.raw.responses WHERE edition_code = ?", [edition]
    ).fetchone()
    states = dict(con.execute(f"""
        SELECT answer_state, count(*) FROM {WAREHOUSE}.raw.answers WHERE edition_code = ?
        GROUP BY ALL ORDER BY 1""", [edition]).fetchall())
    checks = dict(con.execute(f"""
        SELECT check_name, count(*) FROM {WAREHOUSE}.raw.quarantine WHERE edition_code = ?
        GROUP BY ALL ORDER BY 1""", [edition]).fetchall())
    return EditionLoad(edition, manifest.layout, files, int(respondents),
                       sum(states.values()), states, checks)


def load_edition(edition_dir: Path, warehouse: Path, seeds_dir: Path) -> EditionLoad:
    """Ingest one edition folder into `warehouse`, replacing that edition's raw rows.

    Raises IngestError (with file, row, column and what to do) when the edition
    cannot be loaded; the warehouse is then left as it was.
    """
    manifest = load_manifest(edition_dir)
    reference = load_reference(seeds_dir, manifest.edition)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()  # in memory: personal columns never reach the warehouse file
    try:
        files = _stage_edition(con, manifest, reference)
        _apply_rules(con, manifest, reference)
        _answer_tokens(con, manifest, reference)
        _check_answers(con, manifest)
        con.execute(f"ATTACH {_sql_str(str(warehouse))} AS {WAREHOUSE}")
        _write(con, manifest, files)
        return _summary(con, manifest)
    finally:
        con.close()
