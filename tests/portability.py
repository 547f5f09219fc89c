"""Engine-specific SQL, as data: what the portability tests look for (tests/test_portability.py).

The models and macros run on every dbt target (DuckDB, PostgreSQL, Spark): SQL that only
some engines understand belongs in an adapter.dispatch implementation
(`<adapter>__<macro>`, in dbt_project/macros/), never in a model, a test or a macro
shared by every engine. Each entry: a pattern, and the portable way to write it.
"""

from __future__ import annotations

import re
from pathlib import Path

ENGINE_SPECIFIC: dict[str, str] = {
    r"::\s*[a-z]": "a `::` cast (PostgreSQL/DuckDB only): cast(x as {{ dbt.type_…() }})",
    r"\bmedian\s*\(": "median() (DuckDB/Spark): {{ median(x) }} (macros/median.sql)",
    r"\bstrip_accents\s*\(": "strip_accents() (DuckDB): a dispatch macro",
    r"\bregexp_matches\s*\(": "regexp_matches() (DuckDB): a dispatch macro",
    r"\b(?:list|array)_(?:agg|value|contains|extract)\s*\(": (
        "list/array functions: a dispatch macro"
    ),
    r"\bstring_agg\s*\(": "string_agg(): {{ dbt.listagg(...) }}",
    r"\bgroup_concat\s*\(": "group_concat(): {{ dbt.listagg(...) }}",
    r"\bcount_if\s*\(": "count_if() (DuckDB/Spark): sum(case when … then 1 else 0 end)",
    r"\b(?:arg_max|arg_min|max_by|min_by|any_value)\s*\(": (
        "arg_max/max_by/any_value: a window or a dispatch macro"
    ),
    r"\bqualify\b": "QUALIFY (DuckDB/Spark): filter a window in an outer query",
    r"\b(?:group|order)\s+by\s+all\b": "GROUP/ORDER BY ALL (DuckDB): name the columns",
    r"\bselect\s+\*\s+(?:exclude|replace)\b": (
        "SELECT * EXCLUDE/REPLACE (DuckDB): name the columns"
    ),
    r"\bi?iff?\s*\(": "if()/iff() (DuckDB/Spark): case when … end",
    r"\btry_cast\s*\(": "try_cast() (DuckDB/Spark): a dispatch macro",
    r"\b(?:epoch_ms|strftime|strptime|date_diff|datediff|date_add|dateadd)\s*\(": (
        "date functions: {{ dbt.datediff/dateadd(...) }}"
    ),
    r"\bcurrent_localtimestamp\b": (
        "current_localtimestamp (DuckDB): {{ dbt.current_timestamp() }}"
    ),
    r"\b(?:unnest|generate_series|range)\s*\(": "set-returning functions: a dispatch macro",
    r"\bcast\s*\([^()]*\bas\s+"
    r"(?:double|float|real|varchar|string|text|int|bigint|hugeint|ubigint|decimal|numeric)\b"
    r"(?!\s+precision)": (
        "a type named in a cast: {{ type_double() }}, {{ dbt.type_string() }}, "
        "{{ dbt.type_int() }}, {{ type_exact_numeric() }}"
    ),
    r"`": "backtick quoting (Spark): plain or double-quoted identifiers",
}

DISPATCH_IMPLEMENTATION = re.compile(
    r"\{%-?\s*macro\s+(?!default__)[a-z0-9]+__\w+\s*\(.*?\{%-?\s*endmacro\s*-?%\}", re.S
)
"""A macro `<adapter>__name` (not default__): an engine's own implementation of a
dispatched macro, where engine-specific SQL belongs."""

_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_JINJA = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)
_SQL_COMMENT = re.compile(r"--[^\n]*")
_STRING = re.compile(r"'(?:[^']|'')*'")


def portable_text(sql: str) -> str:
    """`sql` without comments, string literals and dispatch implementations: what must be
    portable."""
    sql = _JINJA_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), sql)
    sql = DISPATCH_IMPLEMENTATION.sub(" ", sql)
    # Jinja tags and expressions are not SQL (loops, macro calls): the macros they call
    # are scanned in their own files. Newlines are kept so findings keep their line.
    sql = _JINJA.sub(lambda m: "\n" * m.group(0).count("\n") + " jinja ", sql)
    sql = _SQL_COMMENT.sub(" ", sql)
    return _STRING.sub("''", sql)


def engine_specific(sql: str) -> list[str]:
    """What in `sql` only some engines understand (one line per finding)."""
    text = portable_text(sql)
    found = []
    for pattern, advice in ENGINE_SPECIFIC.items():
        for match in re.finditer(pattern, text, re.I):
            line = text[: match.start()].count("\n") + 1
            found.append(f"line {line}: `{match.group(0).strip()}` — {advice}")
    return found


def scan(paths: list[Path]) -> dict[str, list[str]]:
    """Findings per file."""
    findings = {}
    for path in paths:
        found = engine_specific(path.read_text(encoding="utf-8"))
        if found:
            findings[str(path)] = found
    return findings
