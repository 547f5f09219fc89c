"""Load one edition folder into the raw schema: every row read is loaded or quarantined.

The work happens in an in-memory DuckDB connection, so personal columns never
touch the warehouse file; only the final, checked rows are written, replacing the
edition's previous rows in one transaction (a failure leaves them untouched).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from barometre.ingest.bounded import bounded_connection
from barometre.ingest.columns import ColumnPlan, plan_columns
from barometre.ingest.combinations import failing_combinations, matches
from barometre.ingest.errors import IngestError
from barometre.ingest.manifest import Manifest, load_manifest
from barometre.ingest.personal import mask_sql
from barometre.ingest.raw_tables import create_raw_schema
from barometre.ingest.read_export import ExportTable, read_export
from barometre.ingest.reference import Reference, load_reference
from barometre.ingest.text import normalize_name, normalize_text
from barometre.limits import ANSWER_TEXTS
from barometre.one_row import one_row
from barometre.settings import DEFAULT_MAX_BAD_SHARE

if TYPE_CHECKING:
    import pandera.pandas as pa

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

    # The completeness rule (manifest `completeness`, default: submitted_at not empty).
    rule = manifest.completeness_rule
    if rule.column not in export.headers:
        raise IngestError(
            "the column of the completeness rule is missing from the export",
            file=manifest.folder / source_file,
            row=1,
            column=rule.column,
            hint="fix `completeness.column` in manifest.yml or re-export with that column",
        )
    value = f"trim(coalesce({export.column_of(rule.column)}, ''))"
    if rule.equals is not None:
        accepted = ", ".join(_sql_str(t.strip().lower()) for t in rule.equals)
        complete = f"lower({value}) IN ({accepted})"
    elif rule.at_least is not None:
        complete = f"coalesce(TRY_CAST({value} AS DOUBLE) >= {float(rule.at_least)!r}, false)"
    else:
        complete = f"{value} <> ''"
    if rule.not_empty:
        reason = (
            f"response not submitted (empty {rule.column}): incomplete responses are not loaded"
        )
    else:
        reason = (
            f"response not complete (completeness rule: {rule.describe()}): incomplete "
            "responses are not loaded"
        )

    fmt = _sql_str(manifest.timestamp_format)
    return f"""
        SELECT {_sql_str(source_file)} AS source_file, source_row,
               {col("response_id")} AS response_id,
               {col("collectivity")} AS collectivity_name,
               {col("type")} AS collectivity_type_raw,
               {col("started_at")} AS started_raw,
               {col("submitted_at")} AS submitted_raw,
               try_strptime({col("started_at")}, {fmt}) AS started_at,
               try_strptime({col("submitted_at")}, {fmt}) AS submitted_at,
               {complete} AS is_complete,
               {_sql_str(rule.column)} AS complete_column,
               {value} AS complete_value,
               {_sql_str(reason)} AS complete_reason
        FROM {export.table}"""


def _unpivot(export: ExportTable, plan: ColumnPlan, ids: str = "", join: str = "") -> str:
    """The question cells of `export` as (source_row, [ids,] position, raw_answer) rows.

    Positional columns are unpivoted (empty cells kept as ''): header text never becomes
    an SQL identifier. `join` may restrict the wide rows and bring `ids` along.
    """
    positions = [export.column_of(header) for header in plan.questions]
    cells = ", ".join(f"coalesce(e.{c}, '') AS {c}" for c in positions)
    return f"""(UNPIVOT (SELECT e.source_row, {ids}{cells} FROM {export.table} e {join})
              ON {", ".join(positions)} INTO NAME position VALUE raw_answer)"""


def _answers_select(export: ExportTable, plan: ColumnPlan, source_file: str) -> str:
    """Long form of the question columns (one row per response × question), by UNPIVOT,
    the positions named by a small VALUES table."""
    names = ", ".join(
        f"({_sql_str(export.column_of(header))}, {_sql_str(header)}, "
        f"{_sql_str(question.question_code)})"
        for header, question in plan.questions.items()
    )
    return f"""
        SELECT {_sql_str(source_file)} AS source_file, u.source_row, q.source_column,
               q.question_code, u.raw_answer
        FROM {_unpivot(export, plan)} u
        JOIN (VALUES {names}) q(position, source_column, question_code) USING (position)"""


def _kept_answers_select(export: ExportTable, plan: ColumnPlan, source_file: str) -> str:
    """The answers to write: those of the kept responses (stage_kept), with their ids and
    decoding. The ids join the wide rows (one per response) before the unpivot multiplies
    them, and one lookup by (position, raw answer) gives column, question and decoding:
    one join per answer instead of three."""
    file = _sql_str(source_file)
    kept = f"JOIN stage_kept k ON k.source_file = {file} AND k.source_row = e.source_row"
    return f"""
        SELECT {file} AS source_file, u.source_row, u.response_id, u.respondent_id,
               l.source_column, l.question_code, u.raw_answer, l.answer_state, l.level
        FROM {_unpivot(export, plan, "k.response_id, k.respondent_id, ", kept)} u
        JOIN answer_lookup l
          ON l.source_file = {file} AND l.position = u.position AND l.raw_answer = u.raw_answer"""


def _register_rows(
    con: duckdb.DuckDBPyConnection, name: str, columns: list[str], rows: list[tuple]
) -> None:
    """Make a Python lookup (distinct names or tokens) a DuckDB table of VARCHAR columns.

    The values go in as one list per column (a single statement), not row by row.
    """
    cols = ", ".join(f"{c} VARCHAR" for c in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({cols})")
    if rows:
        unnest = ", ".join(f"unnest(${i + 1}::VARCHAR[])" for i in range(len(columns)))
        con.execute(
            f"INSERT INTO {name} SELECT {unnest}", [list(c) for c in zip(*rows, strict=True)]
        )


def _resolve_collectivities(con: duckdb.DuckDBPyConnection, reference: Reference) -> None:
    """name_resolution: each distinct collectivity name → its SIREN when exactly one matches.

    The reference's names become a table; the export's names are normalised in DuckDB by
    the same Python function, so memory stays bounded however many distinct names come.
    """
    _register_rows(
        con,
        "reference_names",
        ["name_key", "siren", "type_code", "position"],
        [
            (key, c.siren, c.type_code, str(position))
            for key, candidates in reference.names.items()
            for position, c in enumerate(candidates)
        ],
    )
    keys = reference.name_keys  # a name written as in the seeds is not normalised again

    def key_of(name: str) -> str:
        key = keys.get(name)
        return normalize_name(name) if key is None else key

    con.create_function(
        "barometre_normalize_name", key_of, ["VARCHAR"], "VARCHAR", side_effects=False
    )
    # The first candidate gives the type when every candidate has the same SIREN.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE name_resolution AS
        WITH names AS (
            SELECT collectivity_name, barometre_normalize_name(collectivity_name) AS name_key
            FROM (SELECT DISTINCT collectivity_name FROM stage_responses))
        SELECT n.collectivity_name,
               CASE WHEN count(DISTINCT r.siren) = 1 THEN min(r.siren) END AS respondent_id,
               CASE WHEN count(DISTINCT r.siren) = 1
                    THEN arg_min(r.type_code, CAST(r.position AS INTEGER)) END AS reference_type,
               CAST(count(DISTINCT r.siren) AS VARCHAR) AS candidates
        FROM names n LEFT JOIN reference_names r USING (name_key)
        GROUP BY n.collectivity_name
    """)


def _level_table(
    encoding: str, codes: dict[str, int], labels: dict[str, int] | None, reference: Reference
) -> dict[str, int]:
    """Normalised token → level for one encoding (labels default to the seeds' labels)."""
    if encoding == "codes":
        return {normalize_text(code): level for code, level in codes.items()}
    if labels is None:
        return {normalize_text(label): level for level, label in reference.level_labels.items()}
    return {normalize_text(label): level for label, level in labels.items()}


def _answer_tokens(
    con: duckdb.DuckDBPyConnection, manifest: Manifest, reference: Reference
) -> None:
    """Decode each distinct (column, raw answer) to (state, level), from the manifest and seeds.

    A column reads with the encoding of the first `answers.groups` entry it belongs to,
    else with `answers.encoding`. Python sees only the distinct raw answers and the
    columns; DuckDB pairs them.
    """
    answers = manifest.answers
    tables = [_level_table(answers.encoding, answers.codes, answers.labels, reference)] + [
        _level_table(g.encoding, g.codes, g.labels, reference) for g in answers.groups
    ]
    not_concerned = {normalize_text(t) for t in manifest.not_concerned}
    no_answer = {normalize_text(t) for t in manifest.no_answer} | {""}
    columns = [
        (column, str(0 if (group := manifest.group_of(column)) is None else group + 1))
        for (column,) in con.execute("SELECT DISTINCT source_column FROM stage_columns").fetchall()
    ]
    used = sorted({int(table) for _, table in columns})
    # The one pass over the answers here: their distinct (column, text) pairs, in DuckDB.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE answer_pairs AS
        SELECT DISTINCT source_column, raw_answer FROM stage_answers""")
    # Python decodes the distinct texts, not the cells: bounded, since a real export has
    # a few dozen (free text in the answer columns would otherwise come here whole).
    (texts,) = one_row(con.execute("SELECT count(DISTINCT raw_answer) FROM answer_pairs"))
    ANSWER_TEXTS.check(
        int(texts),
        file=manifest.folder,
        hint="the question columns should hold answer codes or labels only: check the "
        "manifest's question mapping and the export",
    )
    rows: list[tuple[str, str, str | None, str | None]] = []
    for (raw,) in con.execute("SELECT DISTINCT raw_answer FROM answer_pairs").fetchall():
        key = normalize_text(raw)
        for table in used:
            levels = tables[table]
            if key in no_answer:
                rows.append((str(table), raw, "no_answer", None))
            elif key in not_concerned:
                rows.append((str(table), raw, "not_concerned", None))
            elif key in levels:
                rows.append((str(table), raw, "answered", str(levels[key])))
            else:
                rows.append((str(table), raw, None, None))
    _register_rows(con, "answer_columns", ["source_column", "level_table"], columns)
    _register_rows(
        con, "answer_decoded", ["level_table", "raw_answer", "answer_state", "level"], rows
    )
    con.execute("""
        CREATE OR REPLACE TEMP TABLE answer_tokens AS
        SELECT p.source_column, p.raw_answer, d.answer_state, d.level
        FROM answer_pairs p
        JOIN answer_columns c USING (source_column)
        JOIN answer_decoded d ON d.level_table = c.level_table AND d.raw_answer = p.raw_answer
    """)
    con.execute("DROP TABLE answer_pairs")
    con.execute("""
        INSERT INTO answer_lookup
        SELECT c.source_file, c.position, t.raw_answer, c.source_column, c.question_code,
               t.answer_state, CAST(t.level AS INTEGER)
        FROM stage_columns c JOIN answer_tokens t USING (source_column)""")


def _check_manifest_against_seeds(manifest: Manifest, reference: Reference) -> None:
    """Every level the manifest maps a code or label to is on the edition's scale."""
    answers = manifest.answers
    tables = [("answers", answers.codes, answers.labels)] + [
        (f"answers.groups[{i}]", g.codes, g.labels) for i, g in enumerate(answers.groups)
    ]
    for key, codes, labels in tables:
        for kind, table in (("codes", codes), ("labels", labels or {})):
            outside = {c: lvl for c, lvl in table.items() if not 1 <= lvl <= reference.scale_size}
            if outside:
                raise IngestError(
                    f"{key}.{kind} maps {outside} outside the edition's scale "
                    f"1..{reference.scale_size} (seeds/editions.csv)",
                    file=manifest.path,
                    hint="the manifest and the seeds disagree: fix one of them",
                )


INCOMPLETE_RULE = """
    -- Documented rule (manifest `completeness`; default: a response without submission
    -- date): an incomplete response is not loaded. The rule's column, value and reason
    -- are computed per export by _responses_select.
    SELECT source_file, source_row, complete_column AS column_name, complete_value AS value,
           'incomplete_response' AS check_name, complete_reason AS reason
    FROM stage_responses WHERE NOT is_complete
"""

_NOT_QUARANTINED = """NOT EXISTS (
    SELECT 1 FROM stage_quarantine q
    WHERE q.source_file = {alias}.source_file AND q.source_row = {alias}.source_row)"""


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
    spec = manifest.read_spec()
    files = []
    responses, answers, kept = [], [], []
    columns: list[tuple[str, str, str, str]] = []
    for index, path in enumerate(manifest.file_paths()):
        export = read_export(con, path, spec, f"export_{index}")
        plan = plan_columns(path, export.headers, manifest, reference, export.wordings)
        responses.append(_responses_select(export, plan, manifest, path.name))
        answers.append(_answers_select(export, plan, path.name))
        kept.append(_kept_answers_select(export, plan, path.name))
        columns += [
            (path.name, h, q.question_code, export.column_of(h)) for h, q in plan.questions.items()
        ]
        if export.rows_read != export.rows_counted:  # caught here for dry runs too
            raise _count_mismatch(manifest, path.name, export.rows_read, export.rows_counted)
        files.append((path.name, _sha256(path), export.rows_read, export.rows_counted))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stage_responses AS " + "\nUNION ALL\n".join(responses)
    )
    # The long answers stay a view over the wide exports: materialised, 10 M answers
    # outgrow the memory limit and spill, which made time superlinear. Each pass
    # re-unpivots (cheap, streamed); the passes are few (tokens, contract, write).
    con.execute("CREATE OR REPLACE TEMP VIEW stage_answers AS " + "\nUNION ALL\n".join(answers))
    # The question columns of each file, from the column plans (no pass over the answers).
    _register_rows(
        con, "stage_columns", ["source_file", "source_column", "question_code", "position"], columns
    )
    # The answers written: those of the responses kept (stage_kept, filled in by
    # _apply_rules), decoded through answer_lookup (filled in by _answer_tokens).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stage_kept (source_file VARCHAR, source_row INTEGER, "
        "response_id VARCHAR, respondent_id VARCHAR)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE answer_lookup (source_file VARCHAR, position VARCHAR, "
        "raw_answer VARCHAR, source_column VARCHAR, question_code VARCHAR, "
        "answer_state VARCHAR, level INTEGER)"
    )
    con.execute("CREATE OR REPLACE TEMP VIEW stage_kept_answers AS " + "\nUNION ALL\n".join(kept))
    return files


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
            f"WHEN {_sql_str(rule)} THEN {_sql_str(v) if quoted else 'r.' + v}"
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


def _apply_rules(con: duckdb.DuckDBPyConnection, manifest: Manifest, reference: Reference) -> None:
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
        + INCOMPLETE_RULE.format(sub_col=_sql_str(resp["submitted_at"]))
    )

    responses = f"""
        SELECT s.source_file, s.source_row, s.response_id, s.submitted_raw, s.submitted_at,
               s.collectivity_name, CAST(n.candidates AS BIGINT) AS candidates,
               coalesce(nullif(s.collectivity_type_raw, ''), n.reference_type) AS type_code,
               count(*) OVER (PARTITION BY s.response_id) AS copies
        FROM stage_responses s JOIN name_resolution n USING (collectivity_name)
        WHERE {_NOT_QUARANTINED.format(alias="s")}"""
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
        WHERE {_NOT_QUARANTINED.format(alias="a")}"""
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
    con.execute("""
        INSERT INTO stage_kept
        SELECT source_file, source_row, response_id, respondent_id FROM stage_ranked
        WHERE rank = 1""")


def _check_answers(con: duckdb.DuckDBPyConnection, manifest: Manifest) -> None:
    (any_unknown,) = one_row(
        con.execute("SELECT count(*) > 0 FROM answer_tokens WHERE answer_state IS NULL")
    )
    if not any_unknown:  # the pass over the answers below finds nothing: skip it
        return
    unknown = con.execute("""
        SELECT a.source_file, a.source_row, a.source_column, a.raw_answer, count(*) OVER ()
        FROM stage_answers a JOIN answer_tokens t USING (source_column, raw_answer)
        JOIN stage_responses r ON r.source_file = a.source_file AND r.source_row = a.source_row
        WHERE t.answer_state IS NULL AND r.is_complete
        ORDER BY a.source_file, a.source_row, a.source_column LIMIT 1
    """).fetchone()
    if unknown:
        source_file, row, column, value, count = unknown
        group = manifest.group_of(column)
        encoding = manifest.answers if group is None else manifest.answers.groups[group]
        known: list[str] | str
        if encoding.encoding == "codes":
            known = sorted(encoding.codes)
        elif encoding.labels is not None:
            known = sorted(encoding.labels)
        else:
            known = "the level labels of seeds/scale_levels.csv"
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
        # Row order in raw tables carries no meaning: DuckDB may write in parallel.
        con.execute("SET preserve_insertion_order = false")
        con.execute(
            f"""
            INSERT INTO {WAREHOUSE}.raw.answers
            SELECT ?, response_id, respondent_id, question_code, source_column, raw_answer,
                   answer_state, level, source_file, source_row
            FROM stage_kept_answers
        """,
            [edition],
        )
        con.execute("RESET preserve_insertion_order")
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
    (respondents,) = one_row(
        con.execute(
            f"SELECT count(*) FROM {WAREHOUSE}.raw.responses WHERE edition_code = ?", [edition]
        )
    )
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


def _dry_run_summary(
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
    # In memory (personal columns never reach the warehouse file), bounded, spilling to disk.
    with bounded_connection(refusing_for=edition_dir) as con:
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
