"""The `barometre` command: the daily work on the warehouse from a terminal.

Heavy libraries (Dagster, dbt) are imported inside the commands that use them,
so `barometre --help` and light commands answer at once.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from barometre import cli_ops
from barometre.console import describe_os_error
from barometre.console import fail as _fail
from barometre.console import say as _say
from barometre.editions import discover_editions
from barometre.file_modes import PRIVATE_UMASK
from barometre.interrupt_watch import InterruptWatch
from barometre.report import cli as report_cli
from barometre.settings import (
    ENV_TARGET,
    PROJECT_ROOT,
    TARGETS,
    Settings,
    export_environment,
    get_settings,
)
from barometre.spark import cli as spark_cli

UI_HINT = "barometre ui   (then open http://127.0.0.1:3000)"


def _quiet_run_config() -> dict:
    # Dagster's console logger prints every event; the CLI prints its own progress and
    # the failure messages, the run's events stay in the Dagster UI and the run log.
    return {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def _transform_run_config(full_refresh: bool) -> dict:
    config = _quiet_run_config()
    if full_refresh:  # every edition of the incremental core models rebuilt
        from barometre.assets.dbt import DBT_OP_NAME

        config["ops"] = {DBT_OP_NAME: {"config": {"full_refresh": True}}}
    return config


def _error_summary(error) -> str:
    """The innermost cause of an unexpected error, in one line (the trace is in the log)."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    first = (error.message or "").strip().splitlines()
    return f"{error.cls_name}: {first[0] if first else ''}".strip()


def _failure_message(result, settings: Settings | None = None) -> str:
    """The user-facing reason of a failed in-process run, never a stack trace (that stays
    in the run log): failing dbt tests told like `validate` (model or seed, rule, a few
    rows, what to do), else our Failure descriptions, else the error's innermost cause."""
    if settings is not None:
        from barometre.dbt_failures import failures_of_run, read_failures, render

        failures = [
            f
            for target in failures_of_run(settings.dbt_project_dir / "target", result.run_id)
            for f in read_failures(target, settings.warehouse)
        ]
        if failures:
            return render(failures, settings.seeds_dir)
    messages = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        data = event.step_failure_data
        if data.user_failure_data and data.user_failure_data.description:
            messages.append(data.user_failure_data.description)
        elif data.error:
            messages.append(
                f"{_error_summary(data.error)}\n(full detail in the run log, and in the Dagster UI)"
            )
    return "\n".join(dict.fromkeys(messages)) or "the run failed (see the run log for details)"


def _ensure_dagster_home(settings: Settings) -> None:
    cli_ops.ensure_instance_config(settings.dagster_home)


def _prepare_instance(settings: Settings):  # -> DagsterInstance (imported lazily)
    _ensure_dagster_home(settings)
    from dagster import DagsterInstance

    return DagsterInstance.get()


def _prepare_dbt_project(settings: Settings) -> int:
    """Make the dbt manifest with dagster-dbt's own preparation (as `dagster-dbt project
    prepare-and-package` does): install time, never when the code location loads."""
    export_environment(settings)
    from dagster_dbt.errors import DagsterDbtError

    from barometre.dbt_project import dbt_project

    try:
        dbt_project.preparer.prepare(dbt_project)
    except DagsterDbtError as err:
        first = str(err).strip().splitlines()[:1]
        return _fail(
            f"dbt could not parse the project ({first[0] if first else type(err).__name__}; "
            "dbt's messages are above): fix it, then run `barometre prepare` again"
        )
    return 0


def cmd_prepare(_args: argparse.Namespace) -> int:
    settings = get_settings()
    if _prepare_dbt_project(settings) != 0:
        return 1
    _say(f"dbt manifest ready: {settings.dbt_project_dir / 'target' / 'manifest.json'}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    if args.target:  # the same as BAROMETRE_TARGET, for this run (dbt and Dagster read it)
        os.environ[ENV_TARGET] = args.target
    settings = get_settings()
    export_environment(settings)
    if settings.target == "postgres":
        problem = cli_ops.server_problem(settings)
        if problem:
            return _fail(problem)
    available = discover_editions(settings.data_dir)
    if not available:
        return _fail(
            f"no edition folder with a manifest.yml under {settings.data_dir} "
            "(set BAROMETRE_DATA_DIR, or restore the bundled sample: git checkout data/raw)"
        )
    if args.edition and args.edition not in available:
        return _fail(
            f"edition {args.edition!r} not found under {settings.data_dir}; "
            f"available: {', '.join(available)}"
        )
    editions = [args.edition] if args.edition else available

    from barometre.writer_lock import WarehouseBusy, hold_working_warehouse

    try:
        # One writer at a time: a second run waits (BAROMETRE_WRITER_WAIT_SECONDS), then
        # refuses in one line; the assets executed below find the lock already held.
        with hold_working_warehouse(on_wait=_say), InterruptWatch() as watch:
            return _run(
                settings,
                available,
                editions,
                watch,
                reload=args.reload or bool(args.edition),
                full_refresh=args.full_refresh,
            )
    except WarehouseBusy as err:
        return _fail(str(err))


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C reached a Dagster execution (Dagster turns it into a failed run); the
    message says what was kept."""


def _interrupted(result) -> bool:
    """Whether an in-process run failed because it was interrupted (SIGINT/SIGTERM)."""
    for event in result.all_events:
        data = event.step_failure_data if event.is_step_failure else None
        if data and data.error and "InterruptedError" in (data.error.cls_name or ""):
            return True
        if event.event_type_value == "RUN_FAILURE" and "interrupted" in (event.message or ""):
            return True
    return False


def _ingest_outcome(edition: str, success: bool, before, after, failure: str) -> tuple[str, str]:
    """(kind, line) of one edition, from what raw.load_log holds before and after its run
    (never from the run's status alone: a check can fail after the load committed).
    kind: loaded | kept | replaced_but_failed."""
    if after is None or before is None:
        if success:
            return "loaded", f"[ingest] edition {edition}: loaded"
        return "replaced_but_failed", (
            f"[ingest] edition {edition} FAILED, and raw.load_log could not be read to "
            f"tell whether its raw rows were replaced:\n{failure}"
        )
    if after != before and after:
        when = max(t for _f, _h, t in after)
        if success:
            return "loaded", f"[ingest] edition {edition}: loaded"
        return "replaced_but_failed", (
            f"[ingest] edition {edition}: its raw rows WERE replaced (load of {when}), but "
            f"a check after the load failed:\n{failure}"
        )
    if success:  # a successful ingestion always writes a new load
        return "replaced_but_failed", (
            f"[ingest] edition {edition}: the run reported success but raw.load_log shows "
            "no new load of it"
        )
    kept = (
        f"its previous load of {max(t for _f, _h, t in before)} is kept"
        if before
        else "it had never been loaded"
    )
    return "kept", f"[ingest] edition {edition} NOT loaded ({kept}):\n{failure}"


def _run(
    settings: Settings,
    available: list[str],
    editions: list[str],
    watch: InterruptWatch,
    *,
    reload: bool = True,
    full_refresh: bool = False,
) -> int:
    """The run proper, under the writer lock.

    Without `reload`, an edition whose folder and seeds are those of its last successful
    load (and which the warehouse still holds) is not loaded again: dbt then rebuilds
    only what changed in core (incremental by edition) and the marts."""
    if not (settings.dbt_project_dir / "target" / "manifest.json").is_file():
        # Not prepared at install time (no `make setup`): prepare it once, as it would.
        _say("dbt manifest missing: preparing it (dagster-dbt, as `barometre prepare`)…")
        if _prepare_dbt_project(settings) != 0:
            return 1
    _say("Loading the pipeline definitions…")
    instance = _prepare_instance(settings)
    from barometre.definitions import defs

    known = set(instance.get_dynamic_partitions("edition"))
    instance.add_dynamic_partitions("edition", [e for e in available if e not in known])

    from barometre.automation import (
        CONTENT_TAG,
        SEEDS_TAG,
        WRITER_TAGS,
        edition_state,
        seeds_fingerprint,
        unchanged_since_last_load,
    )
    from barometre.run_log import captured, new_log_path
    from barometre.status import edition_loads

    log_path = new_log_path(settings.warehouse.parent / "logs")
    _say(f"Full log of this run: {log_path}")
    failed: list[str] = []
    suspect: list[str] = []
    run_ids: list[str] = []
    ingest = defs.resolve_job_def("ingest_edition")
    seeds_sha256 = seeds_fingerprint(settings.seeds_dir)
    for edition in editions:
        # The content fingerprint tells the sensor this content is loaded already.
        state = edition_state(settings.data_dir / edition)
        before = edition_loads(settings.warehouse, edition)
        if not reload and unchanged_since_last_load(instance, state, seeds_sha256, before):
            _say(f"[ingest] edition {edition}: unchanged since its load (--reload loads it again)")
            continue
        _say(f"[ingest] edition {edition}…")
        tags = {**WRITER_TAGS, SEEDS_TAG: seeds_sha256}
        if state.fingerprint:
            tags[CONTENT_TAG] = state.fingerprint
        try:
            with captured(log_path):
                result = ingest.execute_in_process(
                    partition_key=edition,
                    instance=instance,
                    run_config=_quiet_run_config(),
                    tags=tags,
                    raise_on_error=False,
                )
        except KeyboardInterrupt:
            result = None
        after = edition_loads(settings.warehouse, edition)
        if result is None or _interrupted(result) or watch.received():
            replaced = after is None or (after != before and bool(after))
            raise RunInterrupted(
                f"during the ingestion of edition {edition}: "
                + (
                    "its raw rows had been replaced just before; run again to check them"
                    if replaced
                    else "its previous load is kept (the transaction was rolled back)"
                )
                + "; nothing was published"
            )
        run_ids.append(result.run_id)
        failure = "" if result.success else _failure_message(result)
        kind, line = _ingest_outcome(edition, result.success, before, after, failure)
        if kind == "loaded":
            _say(line)
        else:
            (suspect if kind == "replaced_but_failed" else failed).append(edition)
            print(line, file=sys.stderr, flush=True)

    if suspect:
        return _fail(
            f"dbt was not run: the raw rows of edition(s) {', '.join(suspect)} did not pass "
            "their checks (fix the export, then run again).\n"
            f"{cli_ops.unchanged_publication_note(settings)}"
        )
    if len(failed) == len(editions):
        return _fail("no edition could be loaded; dbt was not run")
    _say("[dbt] build (seeds, core, marts and their tests), then publish for BI…")
    try:
        with captured(log_path):
            result = defs.resolve_job_def("transform").execute_in_process(
                instance=instance,
                run_config=_transform_run_config(full_refresh),
                raise_on_error=False,
            )
    except KeyboardInterrupt:
        result = None
    if result is None or _interrupted(result) or watch.received():
        raise RunInterrupted(
            f"during dbt build or publish: {cli_ops.unchanged_publication_note(settings)}"
        )
    if not result.success:
        return _fail(
            f"dbt build or publishing failed:\n{_failure_message(result, settings)}\n"
            f"{cli_ops.unchanged_publication_note(settings)}"
        )
    _say("[dbt] build and publish: ok")
    run_ids.append(result.run_id)
    warnings = cli_ops.warning_lines(instance, run_ids)
    if warnings:
        _say("Warnings (non-blocking checks that failed; details in `barometre status`):")
        for line in warnings:
            _say(f"  {line}")

    from barometre.status import warehouse_summary

    _say("")
    _say(warehouse_summary(settings.warehouse))
    _say(f"Warehouse file: {settings.warehouse} (working copy: runs only)")
    _say(f"Published (BI): {cli_ops.published_location(settings)}")
    _say(f"Dagster UI:     {UI_HINT}")
    if failed:
        return _fail(f"edition(s) not loaded: {', '.join(failed)}")
    return 0


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
            from barometre.reference_advice import alias_advice

            _say(alias_advice(settings.seeds_dir, result.edition_code, unresolved))
        if result.refused:
            refused.append(result.refused)

    _say("Checking the seeds (their dbt tests, on a throw-away copy)…")
    from barometre.dbt_failures import render
    from barometre.seed_checks import SeedCheckError, run_seed_checks

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

    from barometre.reference_advice import declared_editions, not_loaded_warning

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


def cmd_ui(args: argparse.Namespace) -> int:
    """`dagster dev` on this code location, with the same DAGSTER_HOME as `barometre run`."""
    settings = get_settings()
    export_environment(settings)
    _ensure_dagster_home(settings)
    # The manifest is never prepared on code load (the UI would serve only after a dbt
    # parse, and each run launched from it would parse again): once here, if a dbt file
    # changed since it was prepared.
    from barometre.dbt_manifest import stale_reason

    stale = stale_reason(settings.dbt_project_dir)
    if stale:
        _say(f"dbt manifest out of date ({stale}): preparing it (as `barometre prepare`)…")
        if _prepare_dbt_project(settings) != 0:
            return 1
    dagster = Path(sys.executable).with_name("dagster")
    command = [
        str(dagster),
        "dev",
        "-m",
        "barometre.definitions",
        "-h",
        args.host,
        "-p",
        str(args.port),
    ]
    _say(
        f"Dagster UI on http://{args.host}:{args.port} (Ctrl-C to stop); after editing dbt "
        "files, run `barometre prepare` and reload the code location"
    )
    try:
        return subprocess.call(command, cwd=PROJECT_ROOT)
    except KeyboardInterrupt:
        return 0


def cmd_status(_args: argparse.Namespace) -> int:
    from barometre.status import warehouse_summary

    settings = get_settings()
    _say(warehouse_summary(settings.warehouse))
    _say(f"Warehouse file: {settings.warehouse}")
    _say(cli_ops.published_status(settings))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="barometre",
        description="Warehouse of the Baromètre de la maturité numérique: ingest survey "
        "exports, build the star schema and the maturity marts.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="main job: ingest the edition(s), then dbt build")
    run.add_argument("--edition", help="only this edition (folder name under the data dir)")
    run.add_argument(
        "--target",
        choices=TARGETS,
        help="where to build the warehouse (default: BAROMETRE_TARGET, else duckdb); "
        "postgres: the server of BAROMETRE_PG_DSN (docs/scaling.md)",
    )
    run.add_argument(
        "--reload",
        action="store_true",
        help="load every edition again, even those unchanged since their last load "
        "(by default only new or changed editions are loaded; --edition always loads)",
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every edition of the incremental core models (dbt --full-refresh), "
        "not only those whose load changed",
    )
    run.set_defaults(func=cmd_run)

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

    ui = sub.add_parser("ui", help="open the Dagster UI (dagster dev) on 127.0.0.1")
    ui.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind; only change it deliberately (no authentication)",
    )
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)

    status = sub.add_parser("status", help="what the warehouse holds")
    status.set_defaults(func=cmd_status)

    prepare = sub.add_parser(
        "prepare", help="prepare the dbt manifest with dagster-dbt (done by `make setup`)"
    )
    prepare.set_defaults(func=cmd_prepare)

    cli_ops.register(sub)
    report_cli.register(sub)
    spark_cli.register(sub)
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


if __name__ == "__main__":
    sys.exit(main())
