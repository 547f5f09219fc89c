"""What raw.load_log holds of each edition, as `barometre run` reads it before loading
(barometre.serve.status: one connection for every edition, the same rows as asking
edition by edition)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from barometre.common.settings import PROJECT_ROOT
from barometre.ingest.editions import discover_editions
from barometre.ingest.load import load_edition
from barometre.serve.status import all_edition_loads, edition_loads

DATA = PROJECT_ROOT / "data" / "raw"


def test_every_editions_loads_read_at_once_equal_the_loads_of_each(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    assert all_edition_loads(warehouse, ["2018"]) == {"2018": ()}  # no warehouse yet
    editions = discover_editions(DATA)
    for edition in editions:
        load_edition(DATA / edition, warehouse, PROJECT_ROOT / "seeds")

    asked = [*editions, "2099"]
    loads = all_edition_loads(warehouse, asked)

    assert loads is not None and set(loads) == set(asked)
    assert loads["2099"] == ()  # never loaded
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for edition in editions:
            expected = con.execute(
                "SELECT source_file, content_sha256, CAST(loaded_at AS VARCHAR) "
                "FROM raw.load_log WHERE edition_code = ? ORDER BY ALL",
                [edition],
            ).fetchall()
            assert expected and loads[edition] == tuple(expected)
            assert edition_loads(warehouse, edition) == loads[edition]


def test_an_unreadable_warehouse_claims_nothing(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    warehouse.write_bytes(b"not a duckdb file at all" * 100)
    assert all_edition_loads(warehouse, ["2018"]) is None
    assert edition_loads(warehouse, "2018") is None
