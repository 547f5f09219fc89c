"""Operations commands of the `barometre` CLI: publish, export, new-edition.

`register(subparsers)` adds them to the parser of barometre.cli; `published_status`
is the "published for BI" and "last runs" part of `barometre status`;
`unchanged_publication_note` is what a failed run says about the published data;
`ensure_instance_config` writes DAGSTER_HOME/dagster.yaml (one run at a time; for
`barometre run` and `barometre ui`).

Heavy libraries are imported inside the commands, as in barometre.cli.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

from barometre.console import describe_os_error
from barometre.console import fail as _fail
from barometre.console import say as _say
from barometre.file_modes import open_private, private_dir
from barometre.settings import Settings, get_settings
from barometre.templates import LAYOUTS

PREVIOUS_INSTANCE_CONFIG = """\
# Dagster instance of the barometre warehouse (written by `barometre`, edit freely).
# DuckDB allows one writer at a time: runs are queued and started one by one
# (docs/operations.md, "One writer at a time").
concurrency:
  runs:
    max_concurrent_runs: 1
telemetry:
  enabled: false
"""
"""What earlier versions wrote: a file still holding exactly this is brought up to date."""

INSTANCE_CONFIG = (
    PREVIOUS_INSTANCE_CONFIG
    + """\
# Dagster's SQLite event log, with its connections kept open: a run stores its ~700
# events several times faster (barometre.instance_storage; docs/performance.md, P1).
event_log_storage:
  module: barometre.instance_storage
  class: KeptOpenSqliteEventLogStorage
  config:
    base_dir: {event_log_dir}
"""
)


# --------------------------------------------------------------------------- helpers


def ensure_instance_config(dagster_home: Path) -> Path:
    """Create DAGSTER_HOME (owner-only: run logs and event history) and its dagster.yaml
    (never overwrites one edited by hand; one exactly as an earlier version wrote it gets
    the event log storage of barometre.instance_storage)."""
    private_dir(dagster_home)
    config = dagster_home / "dagster.yaml"
    if not config.exists() or config.read_text(encoding="utf-8") == PREVIOUS_INSTANCE_CONFIG:
        # the folder Dagster's default SQLite storage uses: runs stored before stay visible
        event_log_dir = json.dumps(str(dagster_home.resolve() / "history" / "runs"))
        with open_private(config, "w") as handle:
            handle.write(INSTANCE_CONFIG.format(event_log_dir=event_log_dir))
    return config


def server_problem(settings: Settings) -> str | None:
    """PostgreSQL target: why the server cannot be used (in one line), or None."""
    from barometre.postgres.connection import ServerError, connect

    try:
        connect(settings.pg_dsn).close()
    except ServerError as err:
        return str(err)
    return None


def published_location(settings: Settings) -> str:
    """Where BI tools read the published marts."""
    if settings.target == "postgres":
        from barometre.postgres.connection import connection_params, describe

        server = describe(connection_params(settings.pg_dsn))
        return f"schema marts on {server} (role bi_reader)"
    return str(settings.published_dir / "barometre.duckdb")


def unchanged_publication_note(settings: Settings) -> str:
    """One line for failed runs: the published data were not replaced."""
    if settings.target == "postgres":
        return (
            "The marts published for BI were NOT changed (schema marts on the server "
            "keeps the previous publication)."
        )
    from barometre.publish import check_publication

    current, problem = check_publication(settings.published_dir)
    if problem:
        return f"The data published for BI were NOT changed by this run, and {problem}."
    if current is None:
        return "Nothing is published for BI yet (no run has succeeded)."
    return (
        f"The data published for BI were NOT changed: still version {current.version} "
        f"of {current.published_at} ({settings.published_dir / 'barometre.duckdb'})."
    )


def _server_published_lines(settings: Settings) -> list[str]:
    from barometre.postgres.connection import ServerError
    from barometre.postgres.publish import current_publication

    try:
        current = current_publication(settings.pg_dsn)
    except ServerError as err:
        return [f"Published for BI: unknown ({err})."]
    if current is None:
        return [f"Published for BI: nothing yet on {published_location(settings)}."]
    comment, counts = current
    lines = [f"Published for BI: {published_location(settings)}", f"  {comment}"]
    width = max((len(name) for name in counts), default=0)
    lines += [f"  {name:<{width}} {rows:>8} rows" for name, rows in sorted(counts.items())]
    return lines


def _published_lines(settings: Settings) -> list[str]:
    if settings.target == "postgres":
        return _server_published_lines(settings)
    from barometre.publish import check_publication

    current, problem = check_publication(settings.published_dir)
    if problem:
        return [f"Published for BI: DAMAGED: {problem}."]
    if current is None:
        return [
            f"Published for BI: nothing yet ({settings.published_dir}); "
            "`barometre run` publishes after a successful build."
        ]
    lines = [
        f"Published for BI: {current.path}",
        f"  version {current.version}, published {current.published_at}"
        + (f", run {current.run_id}" if current.run_id else ", by hand"),
        f"  Parquet: {settings.published_dir / 'current' / 'parquet'}",
    ]
    width = max((len(name) for name in current.marts), default=0)
    for name, rows in sorted(current.marts.items()):
        lines.append(f"  {name:<{width}} {rows:>8} rows")
    if not current.marts:
        lines.append("  (no mart in this version)")
    editions = sorted({s["edition"] for s in current.sources})
    if editions:
        lines.append(f"  built from editions {', '.join(editions)}")
    return lines


def _run_checks(instance, run_id: str) -> tuple[int, list[str], list[str]]:
    """(checks passed, failed blocking checks, failed warnings) of a run, as 'asset: check'."""
    from dagster import AssetCheckSeverity, DagsterEventType

    passed, failed, warned = 0, [], []
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data
        name = f"{evaluation.asset_key.to_user_string()}: {evaluation.check_name}"
        if evaluation.passed:
            passed += 1
        elif evaluation.severity == AssetCheckSeverity.WARN:
            warned.append(name)
        else:
            failed.append(name)
    return passed, failed, warned


def warning_lines(instance, run_ids: list[str], most: int = 10) -> list[str]:
    """The non-blocking checks that failed in these runs, as 'asset: check' (at most `most`)."""
    warned = [name for run_id in run_ids for name in _run_checks(instance, run_id)[2]]
    shown = warned[:most]
    if len(warned) > most:
        shown.append(f"… and {len(warned) - most} more (see the Dagster UI)")
    return shown


def _run_failure(instance, run_id: str) -> str | None:
    from dagster import DagsterEventType

    for entry in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE):
        data = entry.dagster_event.step_failure_data
        if data.user_failure_data and data.user_failure_data.description:
            return data.user_failure_data.description.splitlines()[0]
        if data.error:
            return data.error.message.strip().splitlines()[0]
    return None


def _runs_lines(
    settings: Settings, jobs: tuple[str, ...] = ("ingest_edition", "transform"), per_job: int = 3
) -> list[str]:
    home = settings.dagster_home
    if not home.is_dir():
        return [f"Last runs: none recorded ({home})"]
    from dagster import DagsterInstance, RunsFilter

    lines = [f"Last runs (Dagster instance {home}):"]
    with DagsterInstance.from_config(str(home)) as instance:
        for job in jobs:
            runs = instance.get_runs(RunsFilter(job_name=job), limit=per_job)
            if not runs:
                lines.append(f"  {job}: no run yet")
            for run in runs:
                record = instance.get_run_record_by_id(run.run_id)
                when = (record.end_time or record.start_time) if record else None
                shown = (
                    ""
                    if when is None
                    else dt.datetime.fromtimestamp(when).astimezone().isoformat(timespec="seconds")
                )
                partition = run.tags.get("dagster/partition")
                label = f"{job} [{partition}]" if partition else job
                lines.append(
                    f"  {label:<24} {run.status.value:<10} {shown}  (run {run.run_id[:8]})"
                )
                passed, failed, warned = _run_checks(instance, run.run_id)
                if passed or failed or warned:
                    lines.append(
                        f"      checks: {passed} passed, {len(failed)} failed, "
                        f"{len(warned)} warning(s)"
                    )
                for label, names in (("FAILED", failed), ("WARNING", warned)):
                    lines.extend(f"      {label} {name}" for name in names[:10])
                    if len(names) > 10:
                        lines.append(f"      … and {len(names) - 10} more (see the Dagster UI)")
                if run.status.value == "FAILURE":
                    reason = _run_failure(instance, run.run_id)
                    if reason:
                        lines.append(f"      why: {reason}")
    return lines


def published_status(settings: Settings) -> str:
    """What is published for BI, and the last runs with their checks (for `status`)."""
    lines = _published_lines(settings)
    try:
        lines += _runs_lines(settings)
    except Exception as err:  # status must answer even if the instance is unreadable
        lines.append(
            f"Last runs: the Dagster instance at {settings.dagster_home} could not "
            f"be read ({type(err).__name__}: {err})"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- commands


def cmd_publish(_args: argparse.Namespace) -> int:
    from barometre.publish import PublishError, publish
    from barometre.writer_lock import WarehouseBusy, hold_working_warehouse

    settings = get_settings()
    if settings.target == "postgres":
        return _publish_on_server(settings)
    try:
        with hold_working_warehouse("barometre publish", on_wait=_say):
            version = publish(settings.warehouse, settings.published_dir, run_id=None, say=_say)
    except (PublishError, WarehouseBusy) as err:
        return _fail(str(err))
    _say(f"Published version {version.version}: {version.path}")
    return 0


def _publish_on_server(settings: Settings) -> int:
    """PostgreSQL target: swap the marts of the last build (schema marts_build) into marts."""
    from barometre.postgres.connection import ServerError
    from barometre.postgres.publish import ServerPublishError, publish_marts
    from barometre.writer_lock import WarehouseBusy, hold_working_warehouse

    try:
        with hold_working_warehouse("barometre publish", on_wait=_say):
            published = publish_marts(settings.pg_dsn)
    except (ServerError, ServerPublishError, WarehouseBusy) as err:
        return _fail(str(err))
    _say(f"Published {len(published.tables)} marts: schema marts on {published.server}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import duckdb

    from barometre.export import export_marts
    from barometre.publish import REPAIR_HINT, check_publication

    settings = get_settings()
    formats = ("csv", "parquet") if args.format == "both" else (args.format,)
    out = Path(args.out).expanduser().resolve()
    published_db = settings.published_dir / "barometre.duckdb"
    scratch = None
    if settings.target == "postgres":
        # what the server publishes (schema marts and the public lookups), copied into
        # a private temporary DuckDB file laid out like the DuckDB publication
        import tempfile

        from barometre.postgres.connection import ServerError
        from barometre.postgres.snapshot import write_published_file

        scratch = tempfile.TemporaryDirectory(prefix="barometre-export-")
        published_db = Path(scratch.name) / "barometre.duckdb"
        try:
            if not write_published_file(settings.pg_dsn, published_db):
                scratch.cleanup()
                return _fail(
                    f"nothing exported: nothing is published on {published_location(settings)} "
                    "yet; run `barometre run --target postgres` first"
                )
        except ServerError as err:
            scratch.cleanup()
            return _fail(f"nothing exported: {err}")
    else:
        _current, problem = check_publication(settings.published_dir)
        if problem:
            return _fail(f"nothing exported: {problem}, then export again")
    try:
        files = export_marts(
            published_db,
            out,
            formats,
            decimal_comma=not args.decimal_point,
            say=_say,
        )
    except FileNotFoundError as err:
        return _fail(str(err))
    except OSError as err:
        return _fail(f"export stopped: {describe_os_error(err)}")
    except duckdb.Error as err:
        return _fail(
            f"export stopped: the published file cannot be read "
            f"({str(err).splitlines()[0]}); {REPAIR_HINT}"
        )
    finally:
        if scratch is not None:
            scratch.cleanup()
    _say(f"{len(files)} file(s) written under {out}")
    return 0


def cmd_new_edition(args: argparse.Namespace) -> int:
    from barometre.ingest.errors import IngestError
    from barometre.new_edition import create_edition

    settings = get_settings()
    try:
        written = create_edition(settings.data_dir, settings.seeds_dir, args.edition, args.layout)
    except (FileExistsError, ValueError, IngestError) as err:
        return _fail(str(err))
    for path in written:
        _say(f"written: {path}")
    _say(f"Next: read {written[-1]}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add publish, export and new-edition to the `barometre` parser."""
    publish = subparsers.add_parser(
        "publish",
        help="publish the working warehouse's marts for BI (read-only DuckDB "
        "file + Parquet, replaced atomically); `run` does it after a successful build",
    )
    publish.set_defaults(func=cmd_publish)

    export = subparsers.add_parser(
        "export",
        help="write the published marts to CSV (Excel: `;`, UTF-8 BOM, decimal "
        "comma) and/or Parquet",
    )
    export.add_argument(
        "--out", default="barometre-export", help="output folder (default: ./barometre-export)"
    )
    export.add_argument("--format", choices=("csv", "parquet", "xlsx", "both"), default="both")
    export.add_argument(
        "--decimal-point",
        action="store_true",
        help="CSV numbers with a decimal point instead of a comma",
    )
    export.set_defaults(func=cmd_export)

    new = subparsers.add_parser(
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
