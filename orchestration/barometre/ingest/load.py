"""Load one edition folder into the raw schema: every row read is loaded or quarantined.

The work happens in an in-memory DuckDB connection, so personal columns never
touch the warehouse file; only the final, checked rows are written, replacing the
edition's previous rows in one transaction (a failure leaves them untouched).

The steps, in order, each in the module named after it: stage.py (read every export
into staging tables, counted twice), resolve.py (collectivity names to SIREN),
decode.py (answers to states and levels), rules.py (documented rules and the pandera
row contract: quarantine, or refusal of the edition), then write.py (one transaction)
and summary.py (what was loaded, or what a dry run would load).
"""

from __future__ import annotations

from pathlib import Path

from barometre.common.settings import DEFAULT_MAX_BAD_SHARE
from barometre.ingest.bounded import bounded_connection
from barometre.ingest.decode import check_answers, decode_answers
from barometre.ingest.manifest import load_manifest
from barometre.ingest.reference import load_reference
from barometre.ingest.resolve import resolve_collectivities
from barometre.ingest.rules import apply_rules, bad_share_error
from barometre.ingest.sql import sql_str
from barometre.ingest.stage import stage_edition
from barometre.ingest.summary import EditionLoad, dry_run_summary, load_summary
from barometre.ingest.write import WAREHOUSE, write_edition


def load_edition(
    edition_dir: Path,
    warehouse: Path,
    seeds_dir: Path,
    *,
    max_bad_share: float = DEFAULT_MAX_BAD_SHARE,
    dry_run: bool = False,
) -> EditionLoad:
    """Ingest one edition folder into `warehouse`, replacing that edition's raw rows.

    Raises IngestError (with file, row, column and what to do) when the edition
    cannot be loaded; the warehouse is then left as it was. With `dry_run`, checks
    everything and returns what would be loaded and quarantined, writing nothing.
    """
    manifest = load_manifest(edition_dir)
    reference = load_reference(seeds_dir, manifest.edition)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    # In memory (personal columns never reach the warehouse file), bounded, spilling to disk.
    with bounded_connection(refusing_for=edition_dir) as con:
        files = stage_edition(con, manifest, reference)
        resolve_collectivities(con, reference)
        decode_answers(con, manifest, reference)
        check_answers(con, manifest)
        apply_rules(con, manifest, reference)
        refused = bad_share_error(con, manifest, files, max_bad_share)
        if dry_run:
            return dry_run_summary(con, manifest, files, refused)
        if refused:
            raise refused
        con.execute(f"ATTACH {sql_str(str(warehouse))} AS {WAREHOUSE}")
        write_edition(con, manifest, files)
        return load_summary(con, manifest)
