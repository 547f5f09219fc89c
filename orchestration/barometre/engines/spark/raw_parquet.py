"""Export the raw schema of a DuckDB warehouse as Parquet, the input of a Spark build.

One folder per raw table (<out>/<table>/part-0.parquet), as Spark lays out a table: a
Spark session registers each folder as raw.<table>. DuckDB writes the files (no Python
row loop); the warehouse is opened read-only, so a writer holding it makes this fail
with the usual lock message instead of waiting.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

RAW_SCHEMA = "raw"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def export_raw_parquet(warehouse: Path, out_dir: Path) -> dict[str, int]:
    """Write every table of `warehouse`'s raw schema under `out_dir`; rows per table.

    `out_dir` is replaced whole (it is an export, never a source of truth).
    """
    if not warehouse.is_file():
        raise FileNotFoundError(f"no warehouse at {warehouse}: run `barometre run` first")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
                [RAW_SCHEMA],
            ).fetchall()
        ]
        if not tables:
            raise ValueError(f"{warehouse} has no raw table: run `barometre run` first")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        rows = {}
        for table in tables:
            folder = out_dir / table
            folder.mkdir(parents=True)
            relation = f'{RAW_SCHEMA}."{table}"'
            con.execute(
                f"COPY {relation} TO {_sql_text(str(folder / 'part-0.parquet'))} (FORMAT parquet)"
            )
            (count,) = con.execute(f"SELECT count(*) FROM {relation}").fetchone() or (0,)
            rows[table] = int(count)
        return rows
    finally:
        con.close()
