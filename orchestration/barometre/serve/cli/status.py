"""`barometre status`: what the warehouse holds, what is published for BI, and the last
runs with their checks (read from the Dagster instance, never written)."""

from __future__ import annotations

import argparse
import datetime as dt

from barometre.common.console import say as _say
from barometre.common.settings import Settings, get_settings
from barometre.serve.cli.publication import published_lines


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
            return str(data.user_failure_data.description.splitlines()[0])
        if data.error:
            return str(data.error.message.strip().splitlines()[0])
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
    lines = published_lines(settings)
    try:
        lines += _runs_lines(settings)
    except Exception as err:  # status must answer even if the instance is unreadable
        lines.append(
            f"Last runs: the Dagster instance at {settings.dagster_home} could not "
            f"be read ({type(err).__name__}: {err})"
        )
    return "\n".join(lines)


def cmd_status(_args: argparse.Namespace) -> int:
    from barometre.serve.status import warehouse_summary

    settings = get_settings()
    _say(warehouse_summary(settings.warehouse))
    _say(f"Warehouse file: {settings.warehouse}")
    _say(published_status(settings))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `status` to the `barometre` parser."""
    status = sub.add_parser("status", help="what the warehouse holds")
    status.set_defaults(func=cmd_status)
