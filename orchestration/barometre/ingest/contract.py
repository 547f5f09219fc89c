"""The row contract of ingestion, as pandera schemas built from the seeds and the manifest.

Nothing here names an edition: the scale, the accepted respondent types and the
question codes come from the seeds (`Reference`). Validation is lazy, so every
failing row is reported; each failure becomes a quarantine entry with a reason
in plain words.

Every check looks at one row: a uniqueness rule reads the row's `copies` (how many
rows share its key, counted by DuckDB where the rows are). So the schemas can be
handed the distinct combinations of the columns they declare instead of whole tables
(`ingest/combinations.py`): memory follows the number of distinct values, not of rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pandera.pandas as pa

from barometre.ingest.reference import Reference

ANSWER_STATES = ("answered", "no_answer", "not_concerned")


@dataclass(frozen=True)
class Rule:
    """A named check and the sentence a person reads when a row breaks it."""

    name: str
    reason: str


RESPONSE_ID_PRESENT = Rule(
    "missing_response_id", "the response has no id: it cannot be told apart from the others"
)
RESPONSE_ID_UNIQUE = Rule(
    "duplicate_response_id", "the same response id appears on several rows of the export"
)
TIMESTAMP_READABLE = Rule(
    "unreadable_timestamp", "the submission date does not match `timestamp_format` of manifest.yml"
)
COLLECTIVITY_KNOWN = Rule(
    "unknown_collectivity",
    "collectivity not found in seeds/collectivities.csv nor seeds/collectivity_aliases.csv: "
    "add an alias row with its SIREN",
)
COLLECTIVITY_UNAMBIGUOUS = Rule(
    "ambiguous_collectivity",
    "the name matches several SIRENs of the reference: add an alias row in "
    "seeds/collectivity_aliases.csv to say which one",
)
TYPE_ACCEPTED = Rule(
    "type_not_accepted",
    "respondent type not admitted for this edition by seeds/collectivity_types.csv "
    "(METRO, MET69, CU, CA, COM; CC from its first_edition_number)",
)
LEVEL_IN_SCALE = Rule("level_outside_scale", "the level is outside the edition's scale")
STATE_KNOWN = Rule(
    "unknown_answer_state", "the answer is neither a level, not-concerned nor no-answer"
)
QUESTION_KNOWN = Rule(
    "unknown_question", "the question code is not in seeds/questions.csv for this edition"
)
ONE_ANSWER = Rule("duplicate_answer", "two answers for the same respondent and question")

RULES = {
    r.name: r
    for r in (
        RESPONSE_ID_PRESENT,
        RESPONSE_ID_UNIQUE,
        TIMESTAMP_READABLE,
        COLLECTIVITY_KNOWN,
        COLLECTIVITY_UNAMBIGUOUS,
        TYPE_ACCEPTED,
        LEVEL_IN_SCALE,
        STATE_KNOWN,
        QUESTION_KNOWN,
        ONE_ANSWER,
    )
}


COPIES = "copies"
"""How many rows share the row's key (responses: the response id; answers: response ×
question); counted in DuckDB, so that uniqueness is a check on one row."""

# Which frame column holds the value a person must see for each failed rule.
RESPONSE_VALUE_COLUMNS = {
    RESPONSE_ID_PRESENT.name: "response_id",
    RESPONSE_ID_UNIQUE.name: "response_id",
    TIMESTAMP_READABLE.name: "submitted_raw",
    COLLECTIVITY_KNOWN.name: "collectivity_name",
    COLLECTIVITY_UNAMBIGUOUS.name: "collectivity_name",
    TYPE_ACCEPTED.name: "type_code",
}
ANSWER_VALUE_COLUMNS = {
    name: "raw_answer"
    for name in (LEVEL_IN_SCALE.name, STATE_KNOWN.name, QUESTION_KNOWN.name, ONE_ANSWER.name)
}


def _check(rule: Rule, fn: Callable[[pd.Series], Any], *, ignore_na: bool = True) -> pa.Check:
    # No `error=`: pandera would then report the message instead of the rule name.
    return pa.Check(fn, name=rule.name, ignore_na=ignore_na)


def response_schema(reference: Reference) -> pa.DataFrameSchema:
    """One row per response read (rows already set aside by the documented rules excluded)."""
    types = sorted(reference.type_codes)
    return pa.DataFrameSchema(
        {
            "response_id": pa.Column(str, _check(RESPONSE_ID_PRESENT, lambda s: s.str.len() > 0)),
            "submitted_at": pa.Column(
                "datetime64[us]",
                _check(TIMESTAMP_READABLE, lambda s: s.notna(), ignore_na=False),
                nullable=True,
                coerce=True,
            ),
            "candidates": pa.Column(
                "int64",
                [
                    _check(COLLECTIVITY_KNOWN, lambda s: s != 0),
                    _check(COLLECTIVITY_UNAMBIGUOUS, lambda s: s <= 1),
                ],
                coerce=True,
            ),
            "type_code": pa.Column(
                str, _check(TYPE_ACCEPTED, lambda s: s.isin(types)), nullable=True
            ),
            COPIES: pa.Column("int64", coerce=True),
        },
        checks=[
            _check(
                RESPONSE_ID_UNIQUE,
                # An empty id is already `missing_response_id`; it is not a duplicate too.
                lambda df: (df[COPIES] == 1) | (df["response_id"] == ""),
            )
        ],
    )


def answer_schema(reference: Reference) -> pa.DataFrameSchema:
    """One row per response × question of the responses that passed."""
    codes = [q.question_code for q in reference.questions]
    scale = reference.scale_size
    return pa.DataFrameSchema(
        {
            "question_code": pa.Column(str, _check(QUESTION_KNOWN, lambda s: s.isin(codes))),
            "answer_state": pa.Column(str, _check(STATE_KNOWN, lambda s: s.isin(ANSWER_STATES))),
            "level": pa.Column("Int64", nullable=True, coerce=True),
            COPIES: pa.Column("int64", _check(ONE_ANSWER, lambda s: s == 1), coerce=True),
        },
        checks=[
            _check(
                LEVEL_IN_SCALE,
                lambda df: (
                    (df["answer_state"] != "answered") | df["level"].between(1, scale).fillna(False)
                ),
            ),
        ],
    )


def contract_failures(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Failures of `frame` against `schema`, one row per (frame row, rule): columns
    `index` (the frame's index label) and `rule`."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    else:
        return pd.DataFrame({"index": pd.Series([], dtype="int64"), "rule": []})
    cases = cases[cases["check"].isin(RULES)].dropna(subset=["index"])
    cases = cases.assign(rule=cases["check"], index=cases["index"].astype("int64"))
    cases = cases.drop_duplicates(["index", "rule"])
    return cases[["index", "rule"]].reset_index(drop=True)
