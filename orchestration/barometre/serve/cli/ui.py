"""`barometre ui`: the Dagster UI on this code location: the code server, the web server
and the daemon (sensor, schedule), started side by side.

`dagster dev` starts them one after the other: its own interpreter, then a code server
(which loads the definitions), and only once that answers, the web server and the daemon,
each importing Dagster again before the web server listens. Here the three start at
once: the web server imports Dagster while the code server loads the definitions, then
waits for it (barometre.serve.cli.ui_after_code), so the UI serves with the code location
loaded, two interpreter starts sooner; the daemon starts as soon as the web server
serves (its imports would otherwise compete with the UI's start for the cores), and
also waits for the code server. They talk over a private Unix socket; Ctrl-C stops all
three (docs/performance.md, "`barometre ui`").
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from barometre.common.console import fail as _fail
from barometre.common.console import say as _say
from barometre.common.settings import PROJECT_ROOT, export_environment, get_settings
from barometre.serve.cli.instance import batch_events, ensure_instance_config
from barometre.serve.cli.prepare import prepare_dbt_project

LOCATION_NAME = "barometre.definitions"
"""The code location's name in the UI (as `dagster dev -m barometre.definitions` named it)."""
STOP_GRACE_SECONDS = 15.0


def service_commands(folder: Path, host: str, port: int) -> dict[str, list[str]]:
    """The three processes of the UI (name → argv), talking over a socket in `folder`."""
    socket = str(folder / "code.sock")
    workspace = folder / "workspace.yaml"
    # JSON is YAML: the workspace Dagster's web server and daemon load (one gRPC location)
    workspace.write_text(
        json.dumps(
            {"load_from": [{"grpc_server": {"socket": socket, "location_name": LOCATION_NAME}}]}
        ),
        encoding="utf-8",
    )
    py = sys.executable
    after_code = [py, "-m", "barometre.serve.cli.ui_after_code", socket]
    return {
        # --lazy-load-user-code: the definitions still load at start, but an error in them
        # is shown in the UI (as under `dagster dev`) instead of stopping the server.
        "code server": [
            py, "-m", "dagster", "api", "grpc", "--socket", socket,
            "-m", "barometre.definitions", "--location-name", LOCATION_NAME,
            "--lazy-load-user-code",
        ],
        "web server": [
            *after_code, "dagster_webserver.cli:main",
            "-h", host, "-p", str(port), "-w", str(workspace),
        ],
        "daemon": [*after_code, "dagster._daemon.cli:main", "run", "-w", str(workspace)],
    }  # fmt: skip


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    """Ask every process still running to stop (SIGTERM), then kill what is left."""
    for proc in processes.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for proc in processes.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _terminate(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the UI as Ctrl-C does


def _listening(host: str, port: int) -> bool:
    """Whether something accepts connections on host:port (the web server, once it serves)."""
    import socket

    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def run_services(
    commands: dict[str, list[str]], address: tuple[str, int], later: tuple[str, ...] = ()
) -> int:
    """Start the processes; those named in `later` (the daemon) once the web server at
    `address` serves, so their imports do not compete with the UI's start for the cores.
    When one stops, stop the others. Ctrl-C (or SIGTERM) stops them all; the exit code
    is that of the process that stopped first."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    processes: dict[str, subprocess.Popen] = {}
    try:
        for name, argv in commands.items():
            if name not in later:
                processes[name] = subprocess.Popen(argv, cwd=PROJECT_ROOT)
        while True:
            for name, proc in processes.items():
                if proc.poll() is not None:
                    if proc.returncode:
                        return _fail(f"the Dagster {name} stopped (exit code {proc.returncode})")
                    return 0
            waiting = [name for name in later if name not in processes]
            if waiting and _listening(*address):
                for name in waiting:
                    processes[name] = subprocess.Popen(commands[name], cwd=PROJECT_ROOT)
            time.sleep(0.2 if waiting else 0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(processes)
        signal.signal(signal.SIGTERM, previous)


def cmd_ui(args: argparse.Namespace) -> int:
    """The Dagster UI on this code location, with the same DAGSTER_HOME as `barometre run`."""
    settings = get_settings()
    export_environment(settings)
    ensure_instance_config(settings.dagster_home)
    batch_events()  # inherited by the runs launched from the UI
    # The manifest is never prepared on code load (the UI would serve only after a dbt
    # parse, and each run launched from it would parse again): once here, if a dbt file
    # changed since it was prepared.
    from barometre.transform.dbt_manifest import stale_reason

    stale = stale_reason(settings.dbt_project_dir)
    if stale:
        _say(f"dbt manifest out of date ({stale}): preparing it (as `barometre prepare`)…")
        if prepare_dbt_project(settings) != 0:
            return 1
    _say(
        f"Dagster UI on http://{args.host}:{args.port} (Ctrl-C to stop); after editing dbt "
        "files, run `barometre prepare` and reload the code location"
    )
    with tempfile.TemporaryDirectory(prefix="barometre-ui-") as folder:
        commands = service_commands(Path(folder), args.host, args.port)
        address = ("127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host, args.port)
        return run_services(commands, address, later=("daemon",))


def register(sub: argparse._SubParsersAction) -> None:
    """Add `ui` to the `barometre` parser."""
    ui = sub.add_parser(
        "ui", help="open the Dagster UI (web server, daemon, code server) on 127.0.0.1"
    )
    ui.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind; only change it deliberately (no authentication)",
    )
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)
