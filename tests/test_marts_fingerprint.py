"""The bundled sample's marts, byte for byte: a committed fingerprint per mart.

Every change keeps these fingerprints unless it means to change a published figure;
then it regenerates them (`BAROMETRE_UPDATE_FINGERPRINTS=1 pytest -m slow
tests/test_marts_fingerprint.py`) and says why in its commit.

Columns appended to a mart (labels, edition year) change its whole-table fingerprint
but must not change the columns published before: `sample_marts_frozen_columns.json`
keeps, per mart, the columns of an earlier release with the fingerprint they had then,
and the second test renders only those columns. It is never regenerated: a change of
a frozen column's values is a change of published figures, said in its own commit
(then refresh the entry from the new whole-table fingerprint of that release).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

FINGERPRINTS = Path(__file__).parent / "fingerprints" / "sample_marts.json"
FROZEN_COLUMNS = Path(__file__).parent / "fingerprints" / "sample_marts_frozen_columns.json"
SCHEMAS = ("marts", "restricted")


def mart_fingerprints(
    warehouse: Path, scratch: Path, columns: dict[str, list[str]] | None = None
) -> dict[str, str]:
    """sha256 of each mart's CSV rendering, rows in a total order, columns as declared
    (or only `columns[mart]`, in that order, for the marts it names)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ? ORDER BY ALL",
            [list(SCHEMAS)],
        ).fetchall()
        prints = {}
        for schema, table in tables:
            name = f"{schema}.{table}"
            if columns is not None and name not in columns:
                continue
            selected = ", ".join(f'"{c}"' for c in columns[name]) if columns else "*"
            target = scratch / f"{name}.csv"
            con.execute(
                f"COPY (SELECT {selected} FROM {name} ORDER BY ALL) TO '{target}' "
                "(HEADER, DELIMITER ',')"
            )
            prints[name] = hashlib.sha256(target.read_bytes()).hexdigest()
        return prints
    finally:
        con.close()


def test_sample_marts_are_byte_identical(sample_warehouse: Path, tmp_path: Path) -> None:
    found = mart_fingerprints(sample_warehouse, tmp_path)
    if os.environ.get("BAROMETRE_UPDATE_FINGERPRINTS") == "1":
        FINGERPRINTS.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n")
    expected = json.loads(FINGERPRINTS.read_text())
    changed = sorted(k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k))
    assert not changed, (
        f"marts changed on the bundled sample: {changed}. If that is meant, regenerate "
        f"{FINGERPRINTS.name} (see this module's docstring) and say why in the commit."
    )


def test_sample_marts_frozen_columns_are_unchanged(sample_warehouse: Path, tmp_path: Path) -> None:
    frozen = json.loads(FROZEN_COLUMNS.read_text())
    found = mart_fingerprints(
        sample_warehouse, tmp_path, {name: entry["columns"] for name, entry in frozen.items()}
    )
    changed = sorted(name for name, entry in frozen.items() if found.get(name) != entry["sha256"])
    assert not changed, (
        f"columns published before changed on the bundled sample: {changed} "
        f"({FROZEN_COLUMNS.name}); appended columns must leave them as they were."
    )
