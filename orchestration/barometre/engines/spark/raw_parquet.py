"""Export the raw schema of a DuckDB warehouse as Parquet, the input of a Spark build.

One folder per raw table (<out>/<table>/part-0.parquet), as Spark lays out a table: dbt
registers each folder as raw.<table> when it starts on Spark (macro
register_raw_source). DuckDB writes the files (no Python row loop); the warehouse is
opened read-only, so a writer holding it makes this fail with the usual lock message
instead of waiting. The new export is written beside the previous one and swapped in
only when complete: a failed export leaves the previous one whole.

On the spark target (BAROMETRE_TARGET=spark) the ingestion writes it after every edition
it loads (as it copies the raw rows to the server on postgres), and the dbt step writes
it again first when it no longer matches the warehouse's load log (an edition loaded
on another target, or an export that failed): `export_if_stale`.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import duckdb

from barometre.ingest.raw_tables import STORAGE_ONLY_COLUMNS

RAW_SCHEMA = "raw"
SOURCE_TABLES = ("answers", "load_log", "quarantine", "responses")
"""The tables of the dbt source `raw` (models/staging/_staging.yml), which a Spark build
registers from the export: each must have its folder."""


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def export_raw_parquet(warehouse: Path, out_dir: Path) -> dict[str, int]:
    """Write every relation of the source `raw` in `warehouse` under `out_dir`; rows per
    table.

    `out_dir` is replaced whole (it is an export, never a source of truth).
    """
    if not warehouse.is_file():
        raise FileNotFoundError(f"no warehouse at {warehouse}: run `barometre run` first")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [
            name
            for (name,) in con.execute(
                # The source's relations, tables or views (raw.answers is a view over
                # the answer tables: ingest/raw_tables.py), as the Spark build reads them.
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = ? AND list_contains(?, table_name) ORDER BY table_name",
                [RAW_SCHEMA, list(SOURCE_TABLES)],
            ).fetchall()
        ]
        if not tables:
            raise ValueError(f"{warehouse} has no raw table: run `barometre run` first")
        partial = out_dir.with_name(f".{out_dir.name}.partial-{uuid.uuid4().hex[:8]}")
        try:
            rows = {}
            for table in tables:
                folder = partial / table
                folder.mkdir(parents=True)
                relation = f'{RAW_SCHEMA}."{table}"'
                columns = [
                    f'"{name}"'
                    for (name,) in con.execute(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                        [RAW_SCHEMA, table],
                    ).fetchall()
                    if name not in STORAGE_ONLY_COLUMNS.get(table, ())
                ]
                where = _sql_text(str(folder / "part-0.parquet"))
                con.execute(
                    f"COPY (SELECT {', '.join(columns)} FROM {relation}) TO {where} "
                    "(FORMAT parquet)"
                )
                (count,) = con.execute(f"SELECT count(*) FROM {relation}").fetchone() or (0,)
                rows[table] = int(count)
            _swap_in(partial, out_dir)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        return rows
    finally:
        con.close()


def _swap_in(new: Path, out_dir: Path) -> None:
    """Put the complete export `new` in place of `out_dir` (two renames)."""
    old = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}")
    if out_dir.exists():
        out_dir.rename(old)
    try:
        new.rename(out_dir)
    except OSError:
        if old.exists():
            old.rename(out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def check_raw_dir(raw_dir: Path) -> None:
    """Refuse, naming them, a folder without the Parquet tables a Spark build reads."""
    if not raw_dir.is_dir():
        raise ValueError(f"no folder of raw Parquet tables at {raw_dir} (one sub-folder per table)")
    missing = [t for t in SOURCE_TABLES if not any((raw_dir / t).glob("*.parquet"))]
    if len(missing) == len(SOURCE_TABLES):
        raise ValueError(f"no Parquet table folder in {raw_dir}")
    if missing:
        raise ValueError(
            f"{raw_dir} has no Parquet files for raw table(s) {', '.join(missing)}: a Spark "
            f"build reads {', '.join(SOURCE_TABLES)} (one sub-folder of Parquet files each)"
        )


def _load_log_matches(con: duckdb.DuckDBPyConnection, raw_dir: Path) -> bool:
    """Whether the export's load log is the warehouse's (every load of every edition)."""
    exported = f"read_parquet({_sql_text(str(raw_dir / 'load_log' / '*.parquet'))})"
    loaded = f"{RAW_SCHEMA}.load_log"
    (differ,) = con.execute(
        f"""SELECT count(*) FROM (
              (SELECT * FROM {loaded} EXCEPT ALL SELECT * FROM {exported})
              UNION ALL
              (SELECT * FROM {exported} EXCEPT ALL SELECT * FROM {loaded}))"""
    ).fetchone() or (1,)
    return int(differ) == 0


def export_if_stale(warehouse: Path, raw_dir: Path) -> dict[str, int] | None:
    """Export the raw schema again unless `raw_dir` holds every source table and its load
    log is the warehouse's (each ingestion writes a new load); the rows written, or None
    when the export was current."""
    try:
        check_raw_dir(raw_dir)
    except ValueError:
        return export_raw_parquet(warehouse, raw_dir)
    if not warehouse.is_file():
        raise FileNotFoundError(f"no warehouse at {warehouse}: run `barometre run` first")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        current = _load_log_matches(con, raw_dir)
    except duckdb.Error:  # no load log, or another layout: write it again
        current = False
    finally:
        con.close()
    return None if current else export_raw_parquet(warehouse, raw_dir)
