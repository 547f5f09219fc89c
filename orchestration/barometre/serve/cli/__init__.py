"""The `barometre` command: the daily work on the warehouse from a terminal.

One module per verb (or pair of verbs), each with its `cmd_<verb>` functions and a
`register(sub)` that adds them to the parser: run, validate, ui, status, prepare,
publication (publish, export), new_edition, report, spark (spark-build); `instance`
is the Dagster instance they share. Heavy libraries (Dagster, dbt) are imported inside
the commands that use them, so `barometre --help` and light commands answer at once.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn

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


QUICK_EXIT_COMMANDS = {"run"}
"""Commands that end the process without tearing down its modules (see `exit_now`)."""


def exit_now(status: int) -> NoReturn:
    """End the process as `sys.exit(status)` would, minus the interpreter's teardown.

    After `barometre run` the process holds ~4,400 modules (Dagster, dbt, Great
    Expectations, SQLAlchemy…); destroying them one by one took ~2 s per run, longer than
    the report step of a warm run, for nothing: the process ends. Everything an ordinary
    exit does that has an effect is done first, in its order: the threads that are not
    daemons are waited for, then the `atexit` handlers run (logging's flush and close,
    temporary folders, Dagster's own), then stdout and stderr are flushed. What is
    skipped is freeing memory. The run has closed its files and connections by then
    (the warehouse, the publication, the Dagster instance: `run._run`)."""
    main_thread = threading.main_thread()
    for thread in threading.enumerate():
        if thread is not main_thread and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed, or a broken pipe
            stream.flush()
    os._exit(status)


def main(argv: list[str] | None = None) -> int:
    """The `barometre` command; with `argv` (tests, other Python code) it returns the exit
    status, from the command line (`argv` None) a `run` ends the process (`exit_now`)."""
    args = build_parser().parse_args(argv)
    status = _command(args)
    if argv is None and args.command in QUICK_EXIT_COMMANDS:
        exit_now(status)
    return status


def _command(args: argparse.Namespace) -> int:
    if args.command in WRITING_COMMANDS:
        os.umask(PRIVATE_UMASK)  # inherited by dbt and by Dagster's run processes
    try:
        status: int = args.func(args)
        return status
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
