"""The `barometre` command: the daily work on the warehouse from a terminal.

Heavy libraries (Dagster, dbt) are imported inside the commands that use them,
so `barometre --help` and light commands answer at once.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from barometre import cli_ops
from barometre.console import fail as _fail
from barometre.console import say as _say
from barometre.editions import discover_editions
from barometre.report import cli as report_cli
from barometre.settings import PROJECT_ROOT, Settings, export_environment, get_settings

UI_HINT = "barometre ui   (then open http://127.0.0.1:3000)"


def _quiet_run_config() -> dict:
    # Dagster's console logger prints every event; the CLI prints its own progress and
    # the failure messages, the run's events stay in the Dagster UI and the run log.
    return {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def _failure_message(result) -> str:
    """The user-facing reason of a failed in-process run (our Failure description first)."""
    messages = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        data = event.step_failure_data
        if data.user_failure_data and data.user_failure_data.description:
            messages.append(data.user_failure_data.description)
        elif data.error:
            messages.append(data.error.message.strip())
    return "\n".join(messages) or "the run failed (see the Dagster UI for its logs)"


def _ensure_dagster_home(settings: Settings) -> None:
    cli_ops.ensure_instance_config(settings.dagster_home)


def _prepare_instance(settings: Settings):  # -> DagsterInstance (imported lazily)
    _ensure_dagster_home(settings)
    from dagster import DagsterInstance

    return DagsterInstance.get()


def _dbt_parse(settings: Settings) -> int:
    """Build dbt_project/target/manifest.json (install time, not code-load time)."""
    command = [
        str(settings.dbt_executable),
        "parse",
        "--quiet",
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_profiles_dir),
    ]
    return subprocess.call(command, cwd=settings.dbt_project_dir)


def _manifest_is_stale(settings: Settings) -> bool:
    """True when a dbt file changed after the manifest was built (or it is missing)."""
    manifest = settings.dbt_project_dir / "target" / "manifest.json"
    if not manifest.is_file():
        return True
    built = manifest.stat().st_mtime
    roots = [settings.dbt_project_dir / d for d in ("macros", "tests")]
    roots += [settings.dbt_project_dir.parent / "models", settings.seeds_dir]
    files = [p for root in roots if root.is_dir() for p in root.rglob("*") if p.is_file()]
    files += [
        settings.dbt_project_dir / "dbt_project.yml",
        settings.dbt_profiles_dir / "profiles.yml",
    ]
    return any(p.stat().st_mtime > built for p in files if p.exists())


def cmd_prepare(_args: argparse.Namespace) -> int:
    settings = get_settings()
    export_environment(settings)
    if _dbt_parse(settings) != 0:
        return _fail("dbt parse failed: see the messages above")
    _say(f"dbt manifest ready: {settings.dbt_project_dir / 'target' / 'manifest.json'}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    settings = get_settings()
    export_environment(settings)
    available = discover_editions(settings.data_dir)
    if not available:
        return _fail(
            f"no edition folder with a manifest.yml under {settings.data_dir} "
            "(set BAROMETRE_DATA_DIR, or run `barometre sample`)"
        )
    if args.edition and args.edition not in available:
        return _fail(
            f"edition {args.edition!r} not found under {settings.data_dir}; "
            f"available: {', '.join(available)}"
        )
    editions = [args.edition] if args.edition else available

    if _manifest_is_stale(settings):
        _say("dbt project changed since its manifest was built: rebuilding it (dbt parse)…")
        if _dbt_parse(settings) != 0:
            return _fail("dbt parse failed: see the messages above")
    _say("Loading the pipeline definitions…")
    instance = _prepare_instance(settings)
    from barometre.definitions import defs

    known = set(instance.get_dynamic_partitions("edition"))
    instance.add_dynamic_partitions("edition", [e for e in available if e not in known])

    from barometre.automation import CONTENT_TAG, WRITER_TAGS, edition_state
    from barometre.run_log import captured, new_log_path

    log_path = new_log_path(settings.warehouse.parent / "logs")
    _say(f"Full log of this run: {log_path}")
    failed: list[str] = []
    ingest = defs.resolve_job_def("ingest_edition")
    for edition in editions:
        _say(f"[ingest] edition {edition}…")
        # The content fingerprint tells the sensor this content is loaded already.
        state = edition_state(settings.data_dir / edition)
        tags = {**WRITER_TAGS, CONTENT_TAG: state.fingerprint} if state.fingerprint else {}
        with captured(log_path):
            result = ingest.execute_in_process(
                partition_key=edition,
                instance=instance,
                run_config=_quiet_run_config(),
                tags=tags,
                raise_on_error=False,
            )
        if result.success:
            _say(f"[ingest] edition {edition}: loaded")
        else:
            failed.append(edition)
            print(
                f"[ingest] edition {edition} NOT loaded (its previous load, if any, is kept):"
                f"\n{_failure_message(result)}",
                file=sys.stderr,
                flush=True,
            )

    if len(failed) == len(editions):
        return _fail("no edition could be loaded; dbt was not run")
    _say("[dbt] build (seeds, core, marts and their tests), then publish for BI…")
    with captured(log_path):
        result = defs.resolve_job_def("transform").execute_in_process(
            instance=instance, run_config=_quiet_run_config(), raise_on_error=False
        )
    if not result.success:
        return _fail(
            f"dbt build or publishing failed:\n{_failure_message(result)}\n"
            f"{cli_ops.unchanged_publication_note(settings)}"
        )
    _say("[dbt] build and publish: ok")

    from barometre.status import warehouse_summary

    _say("")
    _say(warehouse_summary(settings.warehouse))
    _say(f"Warehouse file: {settings.warehouse} (working copy: runs only)")
    _say(f"Published (BI): {settings.published_dir / 'barometre.duckdb'}")
    _say(f"Dagster UI:     {UI_HINT}")
    if failed:
        return _fail(f"edition(s) not loaded: {', '.join(failed)}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check an edition folder (manifest, seeds, exports) without loading anything."""
    from barometre.ingest.errors import IngestError
    from barometre.ingest.load import load_edition

    settings = get_settings()
    folder = Path(args.folder).resolve()
    if not folder.is_dir():
        return _fail(f"{folder} is not a folder (give an edition folder, e.g. data/raw/2021)")
    try:
        result = load_edition(
            folder,
            settings.warehouse,
            settings.seeds_dir,
            max_bad_share=args.max_bad_share or settings.max_bad_share,
            dry_run=True,
        )
    except IngestError as err:
        print(f"NOT LOADABLE: {err.render()}", file=sys.stderr)
        return 1
    for f in result.files:
        _say(
            f"{f.source_file}: {f.rows_read} rows read = {f.rows_loaded} would be loaded + "
            f"{f.rows_quarantined} quarantined"
        )
    for source_file, row, column, value, check, reason in result.quarantine:
        shown = "" if value is None else f", value {value!r}"
        _say(f"  {source_file} row {row}, column {column!r}{shown}: [{check}] {reason}")
    if result.refused:
        print(f"NOT LOADABLE: {result.refused}", file=sys.stderr)
        return 1
    _say(f"OK: edition {result.edition_code} would load {result.respondents} respondents.")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    """`dagster dev` on this code location, with the same DAGSTER_HOME as `barometre run`."""
    settings = get_settings()
    export_environment(settings)
    _ensure_dagster_home(settings)
    if _manifest_is_stale(settings) and _dbt_parse(settings) != 0:
        return _fail("dbt parse failed: see the messages above")
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
    _say(f"Dagster UI on http://{args.host}:{args.port} (Ctrl-C to stop)")
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


def cmd_sample(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.benchmark:
        from barometre.sample import generate_benchmark

        out = Path(args.out).resolve() if args.out else PROJECT_ROOT / "benchmarks" / "output"
        summary = generate_benchmark(
            out,
            respondents=args.respondents,
            questions_per_theme=args.questions_per_theme,
            editions=args.editions,
            seed=args.seed,
        )
    else:
        from barometre.sample import generate_sample

        summary = generate_sample(
            settings.data_dir,
            settings.seeds_dir,
            PROJECT_ROOT / "data" / "reference" / "published_distributions_2021.csv",
            seed=args.seed,
        )
    _say(f"sample written: {summary}")
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

    prepare = sub.add_parser("prepare", help="build the dbt manifest (done by `make setup`)")
    prepare.set_defaults(func=cmd_prepare)

    sample = sub.add_parser(
        "sample",
        help="regenerate the bundled synthetic sample "
        "(deterministic), or a large one for benchmarks",
    )
    sample.add_argument("--seed", type=int, default=20210131)
    sample.add_argument(
        "--benchmark", action="store_true", help="write a large synthetic warehouse input instead"
    )
    sample.add_argument("--out", help="benchmark output folder")
    sample.add_argument("--respondents", type=int, default=2000)
    sample.add_argument("--questions-per-theme", type=int, default=10)
    sample.add_argument("--editions", type=int, default=3)
    sample.set_defaults(func=cmd_sample)
    cli_ops.register(sub)
    report_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return _fail("interrupted")


if __name__ == "__main__":
    sys.exit(main())
