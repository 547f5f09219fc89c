"""Read every export file of an edition into the staging tables of the in-memory load.

stage_responses (one row per record), stage_answers (a view: one row per record and
question column, by UNPIVOT over the wide export), stage_columns (the question columns
of each file) and the tables the later steps fill in (stage_kept, answer_lookup). Each
file's rows are counted a second time, independently of the reader, and reconciled.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from barometre.ingest.columns import ColumnPlan, plan_columns
from barometre.ingest.decode import check_manifest_against_seeds
from barometre.ingest.errors import IngestError
from barometre.ingest.manifest import Manifest
from barometre.ingest.read_export import ExportTable, read_export
from barometre.ingest.reference import Reference
from barometre.ingest.sql import register_rows, sql_str


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
        accepted = ", ".join(sql_str(t.strip().lower()) for t in rule.equals)
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

    fmt = sql_str(manifest.timestamp_format)
    return f"""
        SELECT {sql_str(source_file)} AS source_file, source_row,
               {col("response_id")} AS response_id,
               {col("collectivity")} AS collectivity_name,
               {col("type")} AS collectivity_type_raw,
               {col("started_at")} AS started_raw,
               {col("submitted_at")} AS submitted_raw,
               try_strptime({col("started_at")}, {fmt}) AS started_at,
               try_strptime({col("submitted_at")}, {fmt}) AS submitted_at,
               {complete} AS is_complete,
               {sql_str(rule.column)} AS complete_column,
               {value} AS complete_value,
               {sql_str(reason)} AS complete_reason
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
        f"({sql_str(export.column_of(header))}, {sql_str(header)}, "
        f"{sql_str(question.question_code)})"
        for header, question in plan.questions.items()
    )
    return f"""
        SELECT {sql_str(source_file)} AS source_file, u.source_row, q.source_column,
               q.question_code, u.raw_answer
        FROM {_unpivot(export, plan)} u
        JOIN (VALUES {names}) q(position, source_column, question_code) USING (position)"""


def _kept_answers_select(export: ExportTable, plan: ColumnPlan, source_file: str) -> str:
    """The answers to write: those of the kept responses (stage_kept), as (response_key,
    answer_key). The kept rows' keys join the wide rows (one per response) before the
    unpivot multiplies them, and one lookup by (position, raw answer) gives the key of
    column, question and decoding (raw.answer_keys, written beside)."""
    file = sql_str(source_file)
    kept = f"JOIN stage_kept k ON k.source_file = {file} AND k.source_row = e.source_row"
    return f"""
        SELECT u.response_key, l.answer_key
        FROM {_unpivot(export, plan, "k.response_key, ", kept)} u
        JOIN answer_lookup l
          ON l.source_file = {file} AND l.position = u.position AND l.raw_answer = u.raw_answer"""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def count_mismatch(manifest: Manifest, source_file: str, read: int, counted: int) -> IngestError:
    return IngestError(
        f"reconciliation failed: the reader loaded {read} data rows but the file "
        f"holds {counted} (counted independently); nothing was written",
        file=manifest.folder / source_file,
        hint="this is a bug in the ingester or a file it cannot read whole: report "
        "it with the file; saving it again from a spreadsheet tool may work around it",
    )


def stage_edition(
    con: duckdb.DuckDBPyConnection, manifest: Manifest, reference: Reference
) -> list[tuple[str, str, int, int]]:
    """Read every file into stage_responses / stage_answers.

    Returns (file, sha, rows_read, rows_counted) per file: rows the reader loaded and
    rows counted independently of it, reconciled before anything is written.
    """
    check_manifest_against_seeds(manifest, reference)
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
            raise count_mismatch(manifest, path.name, export.rows_read, export.rows_counted)
        files.append((path.name, _sha256(path), export.rows_read, export.rows_counted))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stage_responses AS " + "\nUNION ALL\n".join(responses)
    )
    # The long answers stay a view over the wide exports: materialised, 10 M answers
    # outgrow the memory limit and spill, which made time superlinear. Each pass
    # re-unpivots (cheap, streamed); the passes are few (tokens, contract, write).
    con.execute("CREATE OR REPLACE TEMP VIEW stage_answers AS " + "\nUNION ALL\n".join(answers))
    # The question columns of each file, from the column plans (no pass over the answers).
    register_rows(
        con, "stage_columns", ["source_file", "source_column", "question_code", "position"], columns
    )
    # The answers written: those of the responses kept (stage_kept, filled in by
    # rules.apply_rules, which numbers them 1…n: write.py adds the warehouse's offset),
    # decoded through answer_lookup (filled in by decode.decode_answers).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stage_kept (source_file VARCHAR, source_row INTEGER, "
        "response_id VARCHAR, respondent_id VARCHAR, response_key BIGINT)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE answer_lookup (answer_key INTEGER, source_file VARCHAR, "
        "position VARCHAR, raw_answer VARCHAR, source_column VARCHAR, question_code VARCHAR, "
        "answer_state VARCHAR, level INTEGER)"
    )
    con.execute("CREATE OR REPLACE TEMP VIEW stage_kept_answers AS " + "\nUNION ALL\n".join(kept))
    return files
