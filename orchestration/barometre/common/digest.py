"""Digests that decide whether earlier work still stands: the GX results kept while what a
suite reads is unchanged (barometre.validate.scope), the seed-only subgraph left out of
dbt while it is unchanged (barometre.transform.unchanged_seeds).

One home for both: a key is `digest` of a JSON-able description, and what a relation
holds is `relation_content`, computed in DuckDB (never read into Python).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

Fetch = Callable[[str], Sequence[Sequence[Any]]]
"""Runs one SQL statement on a DuckDB connection and returns its rows as tuples."""


def digest(value: Any) -> str:
    """sha256 of `value` as canonical JSON (sorted keys; what JSON lacks, as text)."""
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def relation_content(fetch: Fetch, schema: str, table: str) -> dict[str, Any]:
    """What a relation holds, in a few numbers computed in DuckDB: its columns and types,
    its row count and the sum of its rows' hashes (any changed, added or removed row
    changes it). LookupError when the relation does not exist."""
    columns = fetch(
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = {_literal(schema)} and table_name = {_literal(table)} "
        "order by ordinal_position"
    )
    if not columns:
        raise LookupError(f"{schema}.{table} is missing")
    [(n_rows, rows_hash)] = fetch(
        "select count(*), cast(sum(cast(hash(t) as hugeint)) as varchar) "
        f"from {_identifier(schema)}.{_identifier(table)} as t"
    )
    return {"columns": [list(c) for c in columns], "n_rows": n_rows, "rows_hash": rows_hash}
