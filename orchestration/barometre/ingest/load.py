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
import pandas as pd

from barometre.ingest.columns import ColumnPlan, plan_columns
from barometre.ingest.contract import (
    ANSWER_VALUE_COLUMNS,
    RESPONSE_VALUE_COLUMNS,
    RULES,
    answer_schema,
    contract_failures,
    response_schema,
)
from barometre.ingest.errors import IngestError
from barometre.ingest.manifest import Manifest, load_manifest
from barometre.ingest.raw_tables import create_raw_schema
from barometre.ingest.read_export import ExportTable, ReadSpec, read_export
from barometre.ingest.reference import Reference, load_reference
from barometre.ingest.text import normalize_name, normalize_text
from barometre.settings import DEFAULT_MAX_BAD_SHARE

WAREHOUSE = "wh"


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


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _responses_select(
    export: ExportTable, plan: ColumnPlan, manifest: Manifest, source_file: str
) -> str:
    def col(field_name: str) -> str:
        header = plan.respondent.get(field_name)
        return f"trim(coalesce({export.column_of(header)}, ''))" if header else "NULL"

    fmt = _sql_str(manifest.timestamp_format)
    return f"""
        SELECT {_sql_str(source_file)} AS source_file, source_row,
               {col("response_id")} AS response_id,
               {col("collectivity")} AS collectivity_name,
               {col("type")} AS collectivity_type_raw,
               {col("started_at")} AS started_raw,
               {col("submitted_at")} AS submitted_raw,
               try_strptime({col("started_at")}, {fmt}) AS started_at,
               try_strptime({col("submitted_at")}, {fmt}) AS submitted_at
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


def _register_rows(
    con: duckdb.DuckDBPyConnection, name: str, columns: list[str], rows: list[tuple]
) -> None:
    """Make a small Python lookup (distinct names or tokens) a DuckDB table."""
    cols = ", ".join(f"{c} VARCHAR" for c in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({cols})")
    if rows:
        con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' for _ in columns)})", rows)


def _resolve_collectivities(con: duckdb.DuckDBPyConnection, reference: Reference) -> None:
    names = [
        r[0]
        for r in con.execute("SELECT DISTINCT collectivity_name FROM stage_responses").fetchall()
    ]
    rows = []
    for name in names:
        candidates = reference.names.get(normalize_name(name), ())
        sirens = sorted({c.siren for c in candidates})
        rows.append(
            (
                name,
                sirens[0] if len(sirens) == 1 else None,
                candidates[0].type_code if len(sirens) == 1 else None,
                str(len(sirens)),
            )
        )
    _register_rows(
        con,
        "name_resolution",
        ["collectivity_name", "respondent_id", "reference_type", "candidates"],
        rows,
    )


def _answer_tokens(
    con: duckdb.DuckDBPyConnection, manifest: Manifest, reference: Reference
) -> None:
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
        outside = {
            c: lvl
            for c, lvl in manifest.answer_codes.items()
            if not 1 <= lvl <= reference.scale_size
        }
        if outside:
            raise IngestError(
                f"answers.codes maps {outside} outside the edition's scale "
                f"1..{reference.scale_size} (seeds/editions.csv)",
                file=manifest.path,
                hint="the manifest and the seeds disagree: fix one of them",
            )


INCOMPLETE_RULE = """
    -- Documented rule: a response without submission date is incomplete and not loaded.
    SELECT source_file, source_row, {sub_col} AS column_name, submitted_raw AS value,
           'incomplete_response' AS check_name,
           'response not submitted (empty ' || {sub_col} || '): incomplete responses are '
           || 'not loaded' AS reason
    FROM stage_responses WHERE submitted_raw = ''
"""

_NOT_QUARANTINED = """NOT EXISTS (
    SELECT 1 FROM stage_quarantine q
    WHERE q.source_file = {alias}.source_file AND q.source_row = {alias}.source_row)"""


def read_spec_of(manifest: Manifest) -> ReadSpec:
    """How to read the manifest's exports (format and header block)."""
    return ReadSpec(
        format=manifest.format,
        encoding=manifest.encoding,
        delimiter=manifest.delimiter,
        sheet=manifest.sheet,
        header_rows=manifest.header_rows,
        names_row=getattr(manifest, "names_row", 1),
        wording_row=getattr(manifest, "wording_row", None),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _count_mismatch(manifest: Manifest, source_file: str, read: int, counted: int) -> IngestError:
    return IngestError(
        f"reconciliation failed: the reader loaded {read} data rows but the file "
        f"holds {counted} (counted independently); nothing was written",
        file=manifest.folder / source_file,
        hint="this is a bug in the ingester or a file it cannot read whole: report "
        "it with the file; saving it again from a spreadsheet tool may work around it",
    )


def _stage_edition(
    con: duckdb.DuckDBPyConnection, manifest: Manifest, reference: Reference
) -> list[tuple[str, str, int, int]]:
    """Read every file into stage_responses / stage_answers.

    Returns (file, sha, rows_read, rows_counted) per file: rows the reader loaded and
    rows counted independently of it, reconciled before anything is written.
    """
    _check_manifest_against_seeds(manifest, reference)
    spec = read_spec_of(manifest)
    files = []
    responses, answers = [], []
    for index, path in enumerate(manifest.file_paths()):
        export = read_export(con, path, spec, f"export_{index}")
        plan = plan_columns(path, export.headers, manifest, reference)
        responses.append(_responses_select(export, plan, manifest, path.name))
        answers.append(_answers_select(export, plan, path.name))
        if export.rows_read != export.rows_counted:  # caught here for dry runs too
            raise _count_mismatch(manifest, path.name, export.rows_read, export.rows_counted)
        files.append((path.name, _sha256(path), export.rows_read, export.rows_counted))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stage_responses AS " + "\nUNION ALL\n".join(responses)
    )
    con.execute("CREATE OR REPLACE TEMP TABLE stage_answers AS " + "\nUNION ALL\n".join(answers))
    return files


def _quarantine_failures(
    con: duckdb.DuckDBPyConnection,
    frame: pd.DataFrame,
    failures: pd.DataFrame,
    header_of: dict[str, str],
) -> None:
    """Append pandera failures to stage_quarantine, showing the offending value.

    `header_of` names the export column of a frame column; the frame column
    `source_column`, when present, names it row by row (answers).
    """
    if failures.empty:
        return
    rows = frame.loc[failures["index"]].reset_index(drop=True)
    columns = list(failures["column"])
    if "source_column" in rows:
        shown = list(rows["source_column"])
    else:
        shown = [header_of.get(c, c) for c in columns]
    entries = pd.DataFrame(
        {
            "source_file": rows["source_file"],
            "source_row": rows["source_row"].astype("int64"),
            "column_name": shown,
            "value": [rows.at[i, c] for i, c in enumerate(columns)],
            "check_name": failures["rule"],
            "reason": [RULES[r].reason for r in failures["rule"]],
        }
    ).astype({"value": "string", "column_name": "string"})
    con.register("contract_failures", entries)
    con.execute(
        "INSERT INTO stage_quarantine SELECT source_file, source_row, column_name, "
        "value, check_name, reason FROM contract_failures"
    )
    con.unregister("contract_failures")


def _apply_rules(con: duckdb.DuckDBPyConnection, manifest: Manifest, reference: Reference) -> None:
    """Set aside incomplete responses, then hold every row to the contract (pandera)."""
    resp = manifest.respondent
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stage_quarantine AS "
        + INCOMPLETE_RULE.format(sub_col=_sql_str(resp["submitted_at"]))
    )

    responses = con.execute(f"""
        SELECT s.source_file, s.source_row, s.response_id, s.submitted_raw, s.submitted_at,
               s.collectivity_name, CAST(n.candidates AS BIGINT) AS candidates,
               coalesce(nullif(s.collectivity_type_raw, ''), n.reference_type) AS type_code
        FROM stage_responses s JOIN name_resolution n USING (collectivity_name)
        WHERE {_NOT_QUARANTINED.format(alias="s")}
        ORDER BY s.source_file, s.source_row
    """).df()
    _quarantine_failures(
        con,
        responses,
        contract_failures(responses, response_schema(reference), RESPONSE_VALUE_COLUMNS),
        {
            "response_id": resp["response_id"],
            "submitted_raw": resp["submitted_at"],
            "collectivity_name": resp["collectivity"],
            "type_code": resp.get("type", "type_code"),
        },
    )

    answers = con.execute(f"""
        SELECT a.source_file, a.source_row, a.source_file || ':' || a.source_row AS response_key,
               a.source_column, a.question_code, a.raw_answer,
               coalesce(t.answer_state, 'unknown') AS answer_state,
               CAST(t.level AS INTEGER) AS level
        FROM stage_answers a JOIN answer_tokens t USING (raw_answer)
        WHERE {_NOT_QUARANTINED.format(alias="a")}
        ORDER BY a.source_file, a.source_row, a.question_code
    """).df()
    _quarantine_failures(
        con, answers, contract_failures(answers, answer_schema(reference), ANSWER_VALUE_COLUMNS), {}
    )

    # Documented duplicate rule (manifest `duplicates: latest_complete`): among the rows
    # that passed, the latest submission of a collectivity wins; ties go to the highest id.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stage_ranked AS
        SELECT s.*, n.respondent_id, n.reference_type,
               row_number() OVER w AS rank, first_value(s.response_id) OVER w AS kept_id
        FROM stage_responses s JOIN name_resolution n USING (collectivity_name)
        WHERE {_NOT_QUARANTINED.format(alias="s")}
        WINDOW w AS (PARTITION BY n.respondent_id
                     ORDER BY s.submitted_at DESC, s.response_id DESC)
    """)
    con.execute(f"""
        INSERT INTO stage_quarantine
        SELECT source_file, source_row, {_sql_str(resp["collectivity"])}, collectivity_name,
               'duplicate_submission',
               'the collectivity submitted again later (response ' || kept_id
               || '): only its latest complete submission is kept'
        FROM stage_ranked WHERE rank > 1
    """)


def _check_answers(con: duckdb.DuckDBPyConnection, manifest: Manifest) -> None:
    unknown = con.execute("""
        SELECT a.source_file, a.source_row, a.source_column, a.raw_answer, count(*) OVER ()
        FROM stage_answers a JOIN answer_tokens t USING (raw_answer)
        JOIN stage_responses r ON r.source_file = a.source_file AND r.source_row = a.source_row
        WHERE t.answer_state IS NULL AND r.submitted_raw <> ''
        ORDER BY a.source_file, a.source_row, a.source_column LIMIT 1
    """).fetchone()
    if unknown:
        source_file, row, column, value, count = unknown
        known = (
            sorted(manifest.answer_codes)
            if manifest.answer_encoding == "codes"
            else "the level labels of seeds/scale_levels.csv"
        )
        raise IngestError(
            f"answer not known to the manifest ({count} cell(s) in all); expected {known}, "
            f"a not-concerned token {list(manifest.not_concerned)} or a no-answer token "
            f"{list(manifest.no_answer)}",
            file=manifest.folder / source_file,
            row=row,
            column=column,
            value=value,
            hint="add the token to `answers:` in manifest.yml if it is legitimate, otherwise "
            "correct the export",
        )


def _write(
    con: duckdb.DuckDBPyConnection, manifest: Manifest, files: list[tuple[str, str, int, int]]
) -> None:
    edition = manifest.edition
    create_raw_schema(con, WAREHOUSE)
    con.execute("BEGIN TRANSACTION")
    try:
        for table in ("responses", "answers", "quarantine", "load_log"):
            con.execute(f"DELETE FROM {WAREHOUSE}.raw.{table} WHERE edition_code = ?", [edition])
        con.execute(
            f"""
            INSERT INTO {WAREHOUSE}.raw.responses
            SELECT ?, response_id, respondent_id, collectivity_name,
                   nullif(collectivity_type_raw, ''),
                   coalesce(nullif(collectivity_type_raw, ''), reference_type),
                   started_at, submitted_at, source_file, source_row, ?
            FROM stage_ranked WHERE rank = 1
        """,
            [edition, manifest.layout],
        )
        con.execute(
            f"""
            INSERT INTO {WAREHOUSE}.raw.answers
            SELECT ?, r.response_id, r.respondent_id, a.question_code, a.source_column,
                   a.raw_answer, t.answer_state, CAST(t.level AS INTEGER),
                   a.source_file, a.source_row
            FROM stage_answers a
            JOIN stage_ranked r ON r.source_file = a.source_file AND r.source_row = a.source_row
            JOIN answer_tokens t USING (raw_answer)
            WHERE r.rank = 1
        """,
            [edition],
        )
        con.execute(
            f"""
            INSERT INTO {WAREHOUSE}.raw.quarantine
            SELECT ?, source_file, source_row, column_name, value, check_name, reason,
                   current_localtimestamp()
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
            raise _count_mismatch(manifest, bad[0], bad[1], bad[4])
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
    (respondents,) = con.execute(
        f"SELECT count(*) FROM {WAREHOUSE}.raw.responses WHERE edition_code = ?", [edition]
    ).fetchone()
    states = dict(
        con.execute(
            f"""
        SELECT answer_state, count(*) FROM {WAREHOUSE}.raw.answers WHERE edition_code = ?
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


def _bad_share_error(
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
    bad, sample = con.execute("""
        SELECT count(DISTINCT source_file || ':' || source_row),
               string_agg(DISTINCT check_name, ', ' ORDER BY check_name)
        FROM stage_quarantine
        WHERE check_name NOT IN ('incomplete_response', 'duplicate_submission')
    """).fetchone()
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


def _dry_run_summary(
    con: duckdb.DuckDBPyConnection,
    manifest: Manifest,
    files: list[tuple[str, str, int, int]],
    refused: IngestError | None,
) -> EditionLoad:
    """What a load would do, from the staged tables (nothing written)."""
    per_file = []
    for source_file, sha, rows_read, rows_counted in files:
        loaded, quarantined = con.execute(
            """
            SELECT (SELECT count(*) FROM stage_ranked WHERE rank = 1 AND source_file = $f),
                   (SELECT count(DISTINCT source_row) FROM stage_quarantine
                    WHERE source_file = $f)""",
            {"f": source_file},
        ).fetchone()
        per_file.append(FileResult(source_file, sha, rows_read, loaded, quarantined, rows_counted))
    checks = dict(
        con.execute(
            "SELECT check_name, count(*) FROM stage_quarantine GROUP BY ALL ORDER BY 1"
        ).fetchall()
    )
    (respondents,) = con.execute("SELECT count(*) FROM stage_ranked WHERE rank = 1").fetchone()
    entries = tuple(
        con.execute("""
        SELECT source_file, source_row, column_name, value, check_name, reason
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


def load_edition(
    edition_dir: Path,
    warehouse: Path,
    seeds_dir: Path,
    *,
    max_bad_share: float = DEFAULT_MAX_BAD_SHARE,
    dry_run: bool = False,
) -> EditionLoad:
    """Ingest one edition folder into `warehouse`, replacing that edition's raw rows.

    Raises IngestError (with file, row, column and what to do) when the edition
    cannot be loaded; the warehouse is then left as it was. With `dry_run`, checks
    everything and returns what would be loaded and quarantined, writing nothing.
    """
    manifest = load_manifest(edition_dir)
    reference = load_reference(seeds_dir, manifest.edition)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()  # in memory: personal columns never reach the warehouse file
    try:
        files = _stage_edition(con, manifest, reference)
        _resolve_collectivities(con, reference)
        _answer_tokens(con, manifest, reference)
        _check_answers(con, manifest)
        _apply_rules(con, manifest, reference)
        refused = _bad_share_error(con, manifest, files, max_bad_share)
        if dry_run:
            return _dry_run_summary(con, manifest, files, refused)
        if refused:
            raise refused
        con.execute(f"ATTACH {_sql_str(str(warehouse))} AS {WAREHOUSE}")
        _write(con, manifest, files)
        return _summary(con, manifest)
    finally:
        con.close()
