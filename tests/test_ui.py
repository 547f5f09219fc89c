"""`barometre ui` for real: the web server serves the loaded code location, the daemon
evaluates the sensors, and Ctrl-C stops every process it started (slow: three Dagster
interpreters)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

QUERY = """{
  workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } }
  instance { daemonHealth { daemonStatus(daemonType: "SENSOR") { healthy } } }
}"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ask(port: int) -> dict | None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return json.load(answer)["data"]
    except (OSError, ValueError, KeyError):
        return None


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ui_serves_the_location_with_the_daemon_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    (tmp_path / "raw").mkdir()  # no edition: the sensor has nothing to launch
    env = {
        **os.environ,
        "BAROMETRE_DATA_DIR": str(tmp_path / "raw"),
        "BAROMETRE_WAREHOUSE": str(tmp_path / "w.duckdb"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "TMPDIR": str(tmp_path),  # where the UI's socket folder goes
    }
    barometre = Path(sys.executable).with_name("barometre")
    proc = subprocess.Popen(
        [str(barometre), "ui", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, as in a terminal
    )
    try:
        data = None
        deadline = time.monotonic() + 600  # three Dagster starts on a loaded machine
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"`barometre ui` exited with {proc.returncode}"
            data = _ask(port)
            if (
                data
                and data["workspaceOrError"]["locationEntries"]
                and data["instance"]["daemonHealth"]["daemonStatus"]["healthy"]
            ):
                break
            time.sleep(1)
        assert data, "the web server never answered"
        assert data["workspaceOrError"]["locationEntries"] == [
            {"name": "barometre.definitions", "loadStatus": "LOADED"}
        ]
        assert data["instance"]["daemonHealth"]["daemonStatus"]["healthy"]
        assert list(tmp_path.glob("barometre-ui-*/code.sock"))
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal: the whole group
        assert proc.wait(timeout=120) == 0
        deadline = time.monotonic() + 60
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _group_alive(proc.pid), "a process of `barometre ui` outlived it"
        assert not list(tmp_path.glob("barometre-ui-*"))
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
