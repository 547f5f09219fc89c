"""`barometre run`: the main job: ingest the edition(s), then dbt build and publish,
in process, under the writer lock; what it prints is the essentials (the full log goes
to a file: barometre.common.run_log).

Dagster and dbt are imported inside the command, never at module top.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from barometre.common.console import fail as _fail
from barometre.common.console import say as _say
from barometre.common.idle_imports import import_when_idle
from barometre.common.interrupt_watch import InterruptWatch
from barometre.common.settings import (
    ENV_TARGET,
    TARGETS,
    Settings,
    export_environment,
    get_settings,
)
from barometre.ingest.editions import discover_editions
from barometre.serve.cli.instance import prepare_instance
from barometre.serve.cli.prepare import prepare_dbt_project
from barometre.serve.cli.publication import published_location, unchanged_publication_note
from barometre.serve.cli.status import warning_lines
from barometre.transform.partial_parse import cache_file
from barometre.transform.warm_dbt import WarmDbt, start_warm_dbt

UI_HINT = "barometre ui   (then open http://127.0.0.1:3000)"


PRELOADED_DURING_DBT = ("great_expectations",)
"""Imported in a background thread while dbt builds (this process then mostly waits for
dbt's output; barometre.common.idle_imports): the Great Expectations step that follows
no longer pays its seconds of imports on the critical path (docs/performance.md, P1).
Only when a suite will most likely run: this run loaded an edition, or no earlier
results of this warehouse stand (validate.scope); otherwise every suite most likely
keeps its results, GX is not opened, and importing it would only take ~3 s of CPU from
dbt on a 2-core machine."""


def _preloaded(loaded: bool, warehouse: Path) -> tuple[str, ...]:
    """What to import while dbt builds (see PRELOADED_DURING_DBT)."""
    if loaded:
        return PRELOADED_DURING_DBT
    from barometre.validate.checks import docs_dir
    from barometre.validate.scope import results_stand

    return () if results_stand(docs_dir(), warehouse) else PRELOADED_DURING_DBT


def _quiet_run_config() -> dict:
    # Dagster's console logger prints every event; the CLI prints its own progress and
    # the failure messages, the run's events stay in the Dagster UI and the run log.
    return {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def _transform_run_config(full_refresh: bool) -> dict:
    config = _quiet_run_config()
    if full_refresh:  # every edition of the incremental core models rebuilt
        from barometre.transform.dbt_assets import DBT_OP_NAME

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
        from barometre.validate.dbt_failures import failures_of_run, read_failures, render

        # failing rows are read again from the working file; not on Spark, whose
        # compiled SQL DuckDB does not read (the counts and messages still show)
        rows_from = None if settings.target == "spark" else settings.warehouse
        failures = [
            f
            for target in failures_of_run(settings.dbt_project_dir / "target", result.run_id)
            for f in read_failures(target, rows_from)
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


def server_problem(settings: Settings) -> str | None:
    """PostgreSQL target: why the server cannot be used (in one line), or None."""
    from barometre.engines.postgres.connection import ServerError, connect

    try:
        connect(settings.pg_dsn).close()
    except ServerError as err:
        return str(err)
    return None


def cmd_run(args: argparse.Namespace) -> int:
    if args.target:  # the same as BAROMETRE_TARGET, for this run (dbt and Dagster read it)
        os.environ[ENV_TARGET] = args.target
    settings = get_settings()
    export_environment(settings)
    if settings.target == "postgres":
        problem = server_problem(settings)
        if problem:
            return _fail(problem)
    if settings.target == "spark":
        from barometre.engines.spark.session import missing_requirements

        problem = missing_requirements()
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

    from barometre.common.writer_lock import WarehouseBusy, hold_working_warehouse

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
    if not settings.dbt_manifest.is_file():
        # Not prepared at install time (no `make setup`): prepare it once, as it would.
        _say("dbt manifest missing: preparing it (dagster-dbt, as `barometre prepare`)…")
        if prepare_dbt_project(settings) != 0:
            return 1
    # dbt imported and the project parsed on the other core meanwhile; the dbt step's
    # build then runs in that process (barometre.transform.warm_dbt).
    cache = cache_file(settings.dbt_project_dir, settings.warehouse, settings.target)
    warm = start_warm_dbt(settings, cache)
    try:
        _say("Loading the pipeline definitions…")
        instance = prepare_instance(settings)
        try:
            return _run_in(
                instance,
                settings,
                available,
                editions,
                watch,
                reload=reload,
                full_refresh=full_refresh,
                warm=warm,
            )
        finally:
            # its SQLite files closed (their WAL folded back in) before the process ends:
            # `barometre run` then exits without tearing its modules down (cli.exit_now)
            instance.dispose()
    finally:
        if warm is not None:  # never outlives the run (nor is taken by a later one)
            warm.close()
            from barometre.transform.warm_dbt import withdraw

            withdraw()


def _run_in(
    instance,
    settings: Settings,
    available: list[str],
    editions: list[str],
    watch: InterruptWatch,
    *,
    reload: bool,
    full_refresh: bool,
    warm: WarmDbt | None = None,
) -> int:
    from barometre.definitions import defs

    known = set(instance.get_dynamic_partitions("edition"))
    instance.add_dynamic_partitions("edition", [e for e in available if e not in known])

    from barometre.common.run_log import captured, new_log_path
    from barometre.common.writer_lock import WRITER_TAGS
    from barometre.ingest.fingerprint import edition_state, seeds_fingerprint
    from barometre.ingest.runs import CONTENT_TAG, SEEDS_TAG, unchanged_since_last_load
    from barometre.serve.status import all_edition_loads, edition_loads

    log_path = new_log_path(settings.warehouse.parent / "logs")
    _say(f"Full log of this run: {log_path}")
    failed: list[str] = []
    suspect: list[str] = []
    loaded: list[str] = []
    run_ids: list[str] = []
    ingest = defs.resolve_job_def("ingest_edition")
    seeds_sha256 = seeds_fingerprint(settings.seeds_dir)
    # what raw.load_log holds of each edition before this run loads any (one connection)
    loads_before = all_edition_loads(settings.warehouse, editions)
    for edition in editions:
        # The content fingerprint tells the sensor this content is loaded already.
        state = edition_state(settings.data_dir / edition)
        before = None if loads_before is None else loads_before[edition]
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
            loaded.append(edition)
            _say(line)
        else:
            (suspect if kind == "replaced_but_failed" else failed).append(edition)
            print(line, file=sys.stderr, flush=True)

    if suspect:
        return _fail(
            f"dbt was not run: the raw rows of edition(s) {', '.join(suspect)} did not pass "
            "their checks (fix the export, then run again).\n"
            f"{unchanged_publication_note(settings)}"
        )
    if len(failed) == len(editions):
        return _fail("no edition could be loaded; dbt was not run")
    _say("[dbt] build (seeds, core, marts and their tests), then publish for BI…")
    if warm is not None:  # the dbt step waits for its parse, then builds in it
        from barometre.transform.warm_dbt import announce

        announce(cache_file(settings.dbt_project_dir, settings.warehouse, settings.target), warm)
    # imported once the dbt step only waits for dbt (barometre.transform.dbt_assets)
    import_when_idle(_preloaded(bool(loaded), settings.warehouse))
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
        raise RunInterrupted(f"during dbt build or publish: {unchanged_publication_note(settings)}")
    if not result.success:
        return _fail(
            f"dbt build or publishing failed:\n{_failure_message(result, settings)}\n"
            f"{unchanged_publication_note(settings)}"
        )
    _say("[dbt] build and publish: ok")
    run_ids.append(result.run_id)
    warnings = warning_lines(instance, run_ids)
    if warnings:
        _say("Warnings (non-blocking checks that failed; details in `barometre status`):")
        for line in warnings:
            _say(f"  {line}")

    from barometre.serve.status import warehouse_summary

    _say("")
    _say(warehouse_summary(settings.warehouse))
    _say(f"Warehouse file: {settings.warehouse} (working copy: runs only)")
    _say(f"Published (BI): {published_location(settings)}")
    _say(f"Dagster UI:     {UI_HINT}")
    if failed:
        return _fail(f"edition(s) not loaded: {', '.join(failed)}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `run` to the `barometre` parser."""
    run = sub.add_parser("run", help="main job: ingest the edition(s), then dbt build")
    run.add_argument("--edition", help="only this edition (folder name under the data dir)")
    run.add_argument(
        "--target",
        choices=TARGETS,
        help="where to build the warehouse (default: BAROMETRE_TARGET, else duckdb); "
        "postgres: the server of BAROMETRE_PG_DSN; spark: a local Spark session, work "
        "folder BAROMETRE_SPARK_DIR (docs/scaling.md)",
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
