"""Resolve each collectivity name of an export to its SIREN, through the reference
(seeds/collectivities.csv) and its aliases: table name_resolution."""

from __future__ import annotations

import duckdb

from barometre.common.one_row import one_row
from barometre.ingest.reference import Reference
from barometre.ingest.sql import register_rows
from barometre.ingest.text import normalize_names

_BATCH = 50_000


def resolve_collectivities(con: duckdb.DuckDBPyConnection, reference: Reference) -> None:
    """name_resolution: each distinct collectivity name → its SIREN when exactly one matches.

    The reference's names become a table; the export's distinct names are normalised in
    batches (export_name_keys), so memory stays bounded however many distinct names come.
    """
    register_rows(
        con,
        "reference_names",
        ["name_key", "siren", "type_code", "position"],
        [
            (key, c.siren, c.type_code, str(position))
            for key, candidates in reference.names.items()
            for position, c in enumerate(candidates)
        ],
    )
    _name_keys(con, reference.name_keys)
    # The first candidate gives the type when every candidate has the same SIREN.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE name_resolution AS
        SELECT n.collectivity_name,
               CASE WHEN count(DISTINCT r.siren) = 1 THEN min(r.siren) END AS respondent_id,
               CASE WHEN count(DISTINCT r.siren) = 1
                    THEN arg_min(r.type_code, CAST(r.position AS INTEGER)) END AS reference_type,
               CAST(count(DISTINCT r.siren) AS VARCHAR) AS candidates
        FROM export_name_keys n LEFT JOIN reference_names r USING (name_key)
        GROUP BY n.collectivity_name
    """)


def _name_keys(con: duckdb.DuckDBPyConnection, known: dict[str, str]) -> None:
    """export_name_keys: each distinct collectivity name of the export and its key, the
    names read and normalised `_BATCH` at a time (one batch call, not one per name); a
    name written as in the seeds reuses the key the reference computed."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE export_names AS
        SELECT collectivity_name, row_number() OVER () AS position
        FROM (SELECT DISTINCT collectivity_name FROM stage_responses)""")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE export_name_keys "
        "(collectivity_name VARCHAR, name_key VARCHAR)"
    )
    (count,) = one_row(con.execute("SELECT count(*) FROM export_names"))
    for start in range(0, count, _BATCH):
        batch = [
            name
            for (name,) in con.execute(
                "SELECT collectivity_name FROM export_names WHERE position > ? AND position <= ?",
                [start, start + _BATCH],
            ).fetchall()
        ]
        unknown = [name for name in batch if name is not None and name not in known]
        computed = dict(zip(unknown, normalize_names(unknown), strict=True))
        keys = [known[n] if n in known else computed.get(n) for n in batch]  # NULL stays NULL
        con.execute(
            "INSERT INTO export_name_keys SELECT unnest($1::VARCHAR[]), unnest($2::VARCHAR[])",
            [batch, keys],
        )
