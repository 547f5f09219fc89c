"""`barometre ui`: the Dagster UI (`dagster dev`) on this code location."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from barometre.common.console import say as _say
from barometre.common.settings import PROJECT_ROOT, export_environment, get_settings
from barometre.serve.cli.instance import ensure_instance_config
from barometre.serve.cli.prepare import prepare_dbt_project


def cmd_ui(args: argparse.Namespace) -> int:
    """`dagster dev` on this code location, with the same DAGSTER_HOME as `barometre run`."""
    settings = get_settings()
    export_environment(settings)
    ensure_instance_config(settings.dagster_home)
    # The manifest is never prepared on code load (the UI would serve only after a dbt
    # parse, and each run launched from it would parse again): once here, if a dbt file
    # changed since it was prepared.
    from barometre.transform.dbt_manifest import stale_reason

    stale = stale_reason(settings.dbt_project_dir)
    if stale:
        _say(f"dbt manifest out of date ({stale}): preparing it (as `barometre prepare`)…")
        if prepare_dbt_project(settings) != 0:
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


def register(sub: argparse._SubParsersAction) -> None:
    """Add `ui` to the `barometre` parser."""
    ui = sub.add_parser("ui", help="open the Dagster UI (dagster dev) on 127.0.0.1")
    ui.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind; only change it deliberately (no authentication)",
    )
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)
