"""`barometre new-edition`: start a new edition folder (barometre.ingest.new_edition)."""

from __future__ import annotations

import argparse

from barometre.common.console import fail as _fail
from barometre.common.console import say as _say
from barometre.common.settings import get_settings
from barometre.ingest.templates import LAYOUTS


def cmd_new_edition(args: argparse.Namespace) -> int:
    from barometre.ingest.errors import IngestError
    from barometre.ingest.new_edition import create_edition

    settings = get_settings()
    try:
        written = create_edition(settings.data_dir, settings.seeds_dir, args.edition, args.layout)
    except (FileExistsError, ValueError, IngestError) as err:
        return _fail(str(err))
    for path in written:
        _say(f"written: {path}")
    _say(f"Next: read {written[-1]}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `new-edition` to the `barometre` parser."""
    new = sub.add_parser(
        "new-edition",
        help="create data/raw/<edition>/ with a manifest template and seed stubs to fill in",
    )
    new.add_argument("edition", help="edition code = folder name, e.g. 2024")
    new.add_argument(
        "--layout",
        required=True,
        choices=LAYOUTS,
        help="survey tool layout of the export",
    )
    new.set_defaults(func=cmd_new_edition)
