"""The bundled sample's marts, byte for byte: a committed fingerprint per mart.

Every change keeps these fingerprints unless it means to change a published figure;
then it regenerates them (`BAROMETRE_UPDATE_FINGERPRINTS=1 pytest -m slow
tests/test_marts_fingerprint.py`) and says why in its commit.
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
SCHEMAS = ("marts", "restricted")


def mart_fingerprints(warehouse: Path, scratch: Path) -> dict[str, str]:
    """sha256 of each mart's CSV rendering, rows in a total order, columns as declared."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ? ORDER BY ALL",
            [list(SCHEMAS)],
        ).fetchall()
        prints = {}
        for schema, table in tables:
            target = scratch / f"{schema}.{table}.csv"
            con.execute(
                f"COPY (SELECT * FROM {schema}.{table} ORDER BY ALL) TO '{target}' "
                "(HEADER, DELIMITER ',')"
            )
            prints[f"{schema}.{table}"] = hashlib.sha256(target.read_bytes()).hexdigest()
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
