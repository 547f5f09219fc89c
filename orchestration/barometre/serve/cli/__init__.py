"""The `barometre` command: the daily work on the warehouse from a terminal.

One module per verb (or pair of verbs), each with its `cmd_<verb>` functions and a
`register(sub)` that adds them to the parser: run, validate, ui, status, prepare,
publication (publish, export), new_edition, report, spark (spark-build); `instance`
is the Dagster instance they share. Heavy libraries (Dagster, dbt) are imported inside
the commands that use them, so `barometre --help` and light commands answer at once.
"""

from __future__ import annotations

import argparse
import os

from barometre.common.console import describe_os_error
from barometre.common.console import fail as _fail
from barometre.common.file_modes import PRIVATE_UMASK
from barometre.serve.cli import (
    new_edition,
    prepare,
    publication,
    report,
    run,
    spark,
    status,
    ui,
    validate,
)

VERBS = (run, validate, ui, status, prepare, publication, new_edition, report, spark)
"""The verb modules, in the order `barometre --help` lists them."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="barometre",
        description="Warehouse of the Baromètre de la maturité numérique: ingest survey "
        "exports, build the star schema and the maturity marts.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for verbs in VERBS:
        verbs.register(sub)
    return parser


WRITING_COMMANDS = {"run", "publish", "ui", "prepare"}
"""Commands that create working files (warehouse, logs, DAGSTER_HOME): umask 077."""


INTERRUPTED = 130
"""Exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it."""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in WRITING_COMMANDS:
        os.umask(PRIVATE_UMASK)  # inherited by dbt and by Dagster's run processes
    try:
        return args.func(args)
    except KeyboardInterrupt as err:
        detail = (
            f" {err}"
            if str(err)
            else (
                ": an edition being loaded is rolled back and a publication not yet made "
                "current is discarded"
            )
        )
        _fail(f"interrupted (Ctrl-C){detail}; run again when ready")
        return INTERRUPTED
    except OSError as err:  # e.g. disk full: one line, never a traceback
        return _fail(describe_os_error(err))
