"""The Spark build's output as a DuckDB file laid out like the working warehouse, for
the great-expectations suites and publishing (BAROMETRE_TARGET=spark).

A Spark table is a folder of Parquet files (<work>/spark-warehouse/<schema>.db/<table>/,
one sub-folder per partition, `edition_code=2021/`, for the incremental fact table).
This module writes `<work>/spark-output.duckdb`, where each of them is a relation of the
same schema and name: the suites (validate/, GX's SQL datasource on a DuckDB file) and
publishing (publish/, which copies schema `marts` and the public lookups of
`reference`) then run unchanged, with DuckDB reading Spark's files.

- Views over `read_parquet` for the big relations (core, intermediate, restricted, raw):
  nothing is copied, DuckDB reads the files when a suite asks.
- Tables for what is published (marts, reference) and raw.load_log (published.json's
  sources): a copy of a few thousand rows, with dbt's descriptions as table and column
  comments (read from the Spark manifest: dbt-spark writes no column comment on Parquet
  tables), as dbt-duckdb persists them in the working file.

The file is written again, beside the previous one and renamed over it, every time it is
asked for (a few hundred milliseconds on the sample): it lists each table's files as
they are now, and a file Spark replaced in a later build is never read through a stale
list. Files and folders named `_…` or `.…` (Spark's `_SUCCESS`, `_temporary/`, checksum
files) are not data and are left out, as Spark itself does.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import duckdb

from barometre.engines.spark.raw_parquet import RAW_SCHEMA
from barometre.engines.spark.session import RAW_PARQUET, WAREHOUSE

OUTPUT_DB = "spark-output.duckdb"
COPIED_SCHEMAS = ("marts", "reference")
"""Copied as tables with their descriptions: what publishing reads."""
COPIED_TABLES = ((RAW_SCHEMA, "load_log"),)


class SparkOutputError(Exception):
    """No Spark build to read (said in words, with what to run)."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _data_files(table_dir: Path) -> list[str]:
    """The table's Parquet data files, in a stable order (Spark's own files left out)."""
    found = []
    for path in table_dir.rglob("*.parquet"):
        parts = path.relative_to(table_dir).parts
        if not any(p.startswith(("_", ".")) for p in parts):
            found.append(str(path))
    return sorted(found)


def spark_tables(work_dir: Path, raw_dir: Path | None = None) -> dict[tuple[str, str], list[str]]:
    """(schema, table) → its Parquet files, for every Spark table with data files and
    every raw table of the export."""
    tables: dict[tuple[str, str], list[str]] = {}
    warehouse = work_dir / WAREHOUSE
    for schema_dir in sorted(warehouse.glob("*.db")) if warehouse.is_dir() else []:
        for table_dir in sorted(p for p in schema_dir.iterdir() if p.is_dir()):
            files = _data_files(table_dir)
            if files:
                tables[(schema_dir.name.removesuffix(".db"), table_dir.name)] = files
    raw = raw_dir or work_dir / RAW_PARQUET
    for table_dir in sorted(p for p in raw.iterdir() if p.is_dir()) if raw.is_dir() else []:
        files = _data_files(table_dir)
        if files:
            tables[(RAW_SCHEMA, table_dir.name)] = files
    return tables


def _descriptions(manifest: Path | None) -> dict[tuple[str, str], dict[str, Any]]:
    """(schema, table) → {"description": …, "columns": {column: description}} of every
    model and seed, from dbt's manifest."""
    if manifest is None or not manifest.is_file():
        return {}
    nodes = json.loads(manifest.read_text(encoding="utf-8")).get("nodes", {})
    found = {}
    for node in nodes.values():
        if node.get("resource_type") not in ("model", "seed"):
            continue
        found[(node["schema"], node.get("alias") or node["name"])] = {
            "description": node.get("description") or "",
            "columns": {
                name: c.get("description") or "" for name, c in node.get("columns", {}).items()
            },
        }
    return found


def write_output(work_dir: Path, manifest: Path | None = None, raw_dir: Path | None = None) -> Path:
    """Write <work>/spark-output.duckdb from the Spark tables as they are now; its path.

    Raises SparkOutputError when the work folder holds no Spark table."""
    work_dir = Path(work_dir).resolve()
    tables = spark_tables(work_dir, raw_dir)
    if not any(schema != RAW_SCHEMA for schema, _table in tables):
        raise SparkOutputError(
            f"no table built on Spark in {work_dir / WAREHOUSE}: run the pipeline on the "
            "spark target first (BAROMETRE_TARGET=spark barometre run)"
        )
    descriptions = _descriptions(manifest)
    target = work_dir / OUTPUT_DB
    partial = work_dir / f".{OUTPUT_DB}.{uuid.uuid4().hex[:8]}"
    con = duckdb.connect(str(partial))
    try:
        for schema in sorted({s for s, _t in tables}):
            con.execute(f"CREATE SCHEMA {_quote(schema)}")
        for (schema, table), files in tables.items():
            relation = f"{_quote(schema)}.{_quote(table)}"
            listed = ", ".join(_text(f) for f in files)
            # partition columns (edition_code=2021/) read as text, as Spark declares them
            source = (
                f"SELECT * FROM read_parquet([{listed}], hive_partitioning = true, "
                "hive_types_autocast = false)"
            )
            if schema in COPIED_SCHEMAS or (schema, table) in COPIED_TABLES:
                con.execute(f"CREATE TABLE {relation} AS {source}")
                _comment(con, relation, descriptions.get((schema, table)))
            else:
                con.execute(f"CREATE VIEW {relation} AS {source}")
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        partial.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(partial, target)
    return target


def _comment(con: duckdb.DuckDBPyConnection, relation: str, docs: dict[str, Any] | None) -> None:
    if not docs:
        return
    if docs["description"]:
        con.execute(f"COMMENT ON TABLE {relation} IS {_text(docs['description'])}")
    existing = {
        name
        for (name,) in con.execute(
            f"SELECT column_name FROM (DESCRIBE SELECT * FROM {relation})"
        ).fetchall()
    }
    for column, text in docs["columns"].items():
        if text and column in existing:
            con.execute(f"COMMENT ON COLUMN {relation}.{_quote(column)} IS {_text(text)}")
