"""Decode the answers: each distinct (column, raw answer) to an answer state and a level,
from the manifest's encodings and the seeds' scale (tables answer_tokens, answer_lookup);
an answer no encoding knows stops the load with the file, row and column."""

from __future__ import annotations

import duckdb

from barometre.common.one_row import one_row
from barometre.ingest.errors import IngestError
from barometre.ingest.limits import ANSWER_TEXTS
from barometre.ingest.manifest import Manifest
from barometre.ingest.reference import Reference
from barometre.ingest.sql import register_rows
from barometre.ingest.text import normalize_text


def _level_table(
    encoding: str, codes: dict[str, int], labels: dict[str, int] | None, reference: Reference
) -> dict[str, int]:
    """Normalised token → level for one encoding (labels default to the seeds' labels)."""
    if encoding == "codes":
        return {normalize_text(code): level for code, level in codes.items()}
    if labels is None:
        return {normalize_text(label): level for level, label in reference.level_labels.items()}
    return {normalize_text(label): level for label, level in labels.items()}


def decode_answers(
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
    register_rows(con, "answer_columns", ["source_column", "level_table"], columns)
    register_rows(
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
        SELECT CAST(row_number() OVER () AS INTEGER), c.source_file, c.position, t.raw_answer,
               c.source_column, c.question_code,
               t.answer_state, CAST(t.level AS INTEGER)
        FROM stage_columns c JOIN answer_tokens t USING (source_column)""")


def check_manifest_against_seeds(manifest: Manifest, reference: Reference) -> None:
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


def check_answers(con: duckdb.DuckDBPyConnection, manifest: Manifest) -> None:
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
