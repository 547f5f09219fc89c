"""Personal data that must not be stored in clear: detection, masking, neutral file labels.

Respondents are collectivities, but the people who filled the forms type their own
details where they should not (an e-mail in the collectivity cell, a phone number in a
date cell), and name export files after themselves. This module is the one home of:

- the patterns that make a cell look personal (e-mail, phone number, IP address). They
  run in DuckDB, whose regular expressions are RE2: linear time on any input, so a
  hostile cell cannot make them hang, and no Python loop over rows;
- `mask_sql`: the SQL expression that replaces such a cell by its kind and a short,
  stable hash (`email:sha256:1a2b3c4d`): enough to tell that two quarantined cells
  hold the same value and to find the cell again in the export (file, row and column
  are stored beside it), never the value itself. Other cells are kept as they are:
  a misspelt collectivity or an unknown answer code is what a person needs to fix;
- `file_label`: the neutral name (`2021/file-1`) under which an export file appears
  outside the working warehouse (published.json, Dagster's run storage), with its
  content hash. Files are numbered in the order of their names within the edition,
  the order of raw.load_log.
"""

from __future__ import annotations

from barometre.common.one_row import one_row

PERSONAL_PATTERNS: tuple[tuple[str, str], ...] = (
    ("email", r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"),
    # French numbers: 0X XX XX XX XX, +33 X XX XX XX XX, 0033 …, with one separator
    # before every pair or none (so that a date such as 01.02.2021 10:15 is not one).
    (
        "phone",
        r"(^|[^0-9])(0|\+33 ?(\(0\))? ?|0033 ?)[1-9](([0-9]{2}){4}|([ .\-][0-9]{2}){4})"
        r"([^0-9]|$)",
    ),
    # Other international numbers: a leading + and 7 to 14 digits.
    ("phone", r"(^|[^0-9])\+[1-9][0-9]{0,2}([ .\-]?[0-9]){6,13}([^0-9]|$)"),
    ("ip", r"(^|[^0-9.])([0-9]{1,3}\.){3}[0-9]{1,3}([^0-9.]|$)"),
    (
        "ip",
        r"(?i)(^|[^0-9a-f:])(([0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|"
        r"([0-9a-f]{1,4}:){1,7}(:[0-9a-f]{1,4}){1,7}|([0-9a-f]{1,4}:){1,7}:|"
        r":(:[0-9a-f]{1,4}){1,7})([^0-9a-f:]|$)",
    ),
)
"""(kind, RE2 pattern) searched anywhere in a cell; the first kind found names the mask."""

HASH_DIGITS = 8


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def personal_kind_sql(expression: str) -> str:
    """SQL: 'email', 'phone' or 'ip' when the text `expression` looks personal, else NULL."""
    whens = " ".join(
        f"WHEN regexp_matches({expression}, {_sql_str(pattern)}) THEN {_sql_str(kind)}"
        for kind, pattern in PERSONAL_PATTERNS
    )
    return f"(CASE {whens} END)"


def mask_sql(expression: str) -> str:
    """SQL: `expression` itself, or `<kind>:sha256:<8 hex>` when it looks personal."""
    kind = personal_kind_sql(expression)
    return (
        f"(CASE WHEN {kind} IS NULL THEN {expression} "
        f"ELSE {kind} || ':sha256:' || left(sha256({expression}), {HASH_DIGITS}) END)"
    )


def mask_value(value: str | None) -> str | None:
    """`mask_sql` applied to one Python value (for messages and tests)."""
    if value is None:
        return None
    import duckdb  # here, not at module load: publish (so the code location) imports this

    (masked,) = one_row(duckdb.execute(f"SELECT {mask_sql('$v::VARCHAR')}", {"v": value}))
    return None if masked is None else str(masked)


def file_label(edition: str, position: int) -> str:
    """Neutral name of the `position`-th (1-based, by file name) export of an edition."""
    return f"{edition}/file-{position}"
