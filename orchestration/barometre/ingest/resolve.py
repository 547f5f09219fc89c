"""Resolve each collectivity name of an export to its SIREN, through the reference
(seeds/collectivities.csv) and its aliases: table name_resolution."""

from __future__ import annotations

import duckdb

from barometre.ingest.reference import Reference
from barometre.ingest.sql import register_columns
from barometre.ingest.text import normalize_name


def resolve_collectivities(con: duckdb.DuckDBPyConnection, reference: Reference) -> None:
    """name_resolution: each distinct collectivity name → its SIREN when exactly one matches.

    The reference's names become a table; the export's names are normalised in DuckDB by
    the same Python function, so memory stays bounded however many distinct names come.
    """
    register_columns(con, "reference_names", reference.name_table.candidate_columns())
    keys = reference.name_keys  # a name written as in the seeds is not normalised again

    def key_of(name: str) -> str:
        key = keys.get(name)
        return normalize_name(name) if key is None else key

    con.create_function(
        "barometre_normalize_name", key_of, ["VARCHAR"], "VARCHAR", side_effects=False
    )
    # The first candidate gives the type when every candidate has the same SIREN.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE name_resolution AS
        WITH names AS (
            SELECT collectivity_name, barometre_normalize_name(collectivity_name) AS name_key
            FROM (SELECT DISTINCT collectivity_name FROM stage_responses))
        SELECT n.collectivity_name,
               CASE WHEN count(DISTINCT r.siren) = 1 THEN min(r.siren) END AS respondent_id,
               CASE WHEN count(DISTINCT r.siren) = 1
                    THEN arg_min(r.type_code, CAST(r.position AS INTEGER)) END AS reference_type,
               CAST(count(DISTINCT r.siren) AS VARCHAR) AS candidates
        FROM names n LEFT JOIN reference_names r USING (name_key)
        GROUP BY n.collectivity_name
    """)
