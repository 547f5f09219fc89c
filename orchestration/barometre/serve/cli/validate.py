"""`barometre validate`: check an edition folder without loading anything."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from barometre.common.console import fail as _fail
from barometre.common.console import say as _say
from barometre.common.settings import get_settings
from barometre.ingest.editions import discover_editions


def cmd_validate(args: argparse.Namespace) -> int:
    """Check an edition folder (manifest, seeds, exports) without loading anything.

    Two parts, so that OK here means the run will not refuse the edition: the ingestion
    dry run (manifest, export, row contract) and the seed-level dbt tests (the edition's
    seed rows: crosswalk keys, themes, scale, …) run on a throw-away copy.
    """
    from barometre.ingest.errors import IngestError
    from barometre.ingest.load import load_edition

    settings = get_settings()
    folder = Path(args.folder).resolve()
    if not folder.is_dir():
        return _fail(f"{folder} is not a folder (give an edition folder, e.g. data/raw/2021)")
    refused: list[str] = []
    result = None
    try:
        result = load_edition(
            folder,
            settings.warehouse,
            settings.seeds_dir,
            max_bad_share=args.max_bad_share or settings.max_bad_share,
            dry_run=True,
        )
    except IngestError as err:
        refused.append(err.render())
    if result is not None:
        for f in result.files:
            _say(
                f"{f.source_file}: {f.rows_read} rows read = {f.rows_loaded} would be loaded + "
                f"{f.rows_quarantined} quarantined"
            )
        unresolved = []
        for source_file, row, column, value, check, reason in result.quarantine:
            shown = "" if value is None else f", value {value!r}"
            _say(f"  {source_file} row {row}, column {column!r}{shown}: [{check}] {reason}")
            if check in ("unknown_collectivity", "ambiguous_collectivity") and value:
                unresolved.append(str(value))
        if unresolved:
            from barometre.ingest.reference_advice import alias_advice

            _say(alias_advice(settings.seeds_dir, result.edition_code, unresolved))
        if result.refused:
            refused.append(result.refused)

    _say("Checking the seeds (their dbt tests, on a throw-away copy)…")
    from barometre.validate.dbt_failures import render
    from barometre.validate.seed_checks import SeedCheckError, run_seed_checks

    try:
        failures = run_seed_checks(settings.seeds_dir, settings.dbt_project_dir)
    except SeedCheckError as err:
        failures = []
        refused.append(str(err))
    blocking = [f for f in failures if f.status != "warn"]
    if failures:
        print(render(failures, settings.seeds_dir), file=sys.stderr)
    if blocking:
        refused.append(
            f"{len(blocking)} seed check(s) failed (above): `barometre run` would stop on them"
        )

    from barometre.ingest.reference_advice import declared_editions, not_loaded_warning

    warning = not_loaded_warning(
        declared_editions(settings.seeds_dir),
        discover_editions(settings.data_dir) + ([folder.name] if folder.is_dir() else []),
        f"have no edition folder under {settings.data_dir}",
    )
    if warning:
        _say(warning)
    if refused:
        for reason in refused:
            print(f"NOT LOADABLE: {reason}", file=sys.stderr)
        return 1
    assert result is not None
    _say(f"OK: edition {result.edition_code} would load {result.respondents} respondents.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `validate` to the `barometre` parser."""
    validate = sub.add_parser(
        "validate",
        help="check an edition folder without loading it; exit status 0 when it would load",
    )
    validate.add_argument("folder", help="edition folder, e.g. data/raw/2021")
    validate.add_argument(
        "--max-bad-share",
        type=float,
        default=None,
        help="share of rows allowed to break the row contract (default: "
        "BAROMETRE_MAX_BAD_SHARE, else 0.05)",
    )
    validate.set_defaults(func=cmd_validate)
