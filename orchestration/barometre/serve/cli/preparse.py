"""dbt's project parsed in the background while a cold `barometre run` loads the editions.

A `dbt build` starts by parsing the project; with no parse state kept for the warehouse
(a fresh warehouse: barometre.transform.dbt_assets.partial_parse_cache) that is a full
parse, ~4-6 s of one core on the development machine, on the critical path of the run.
It needs neither the warehouse nor its data: `dbt parse` reads the project, the seeds'
files and the profile only (it never opens the DuckDB file, so the one-writer rule is
untouched). So a cold run starts one when it starts, as a child process (the second
core is idle while the run imports the pipeline and loads the editions), and announces
it for the dbt step (barometre.transform.partial_parse.announce_state): the step waits
for it just before dbt starts (Dagster creates the transform run meanwhile) and its
state is handed over as the state a previous build would have left (the same file,
where the step restores it from). dbt then only checks the state (dbt's own check:
project files, profile, vars and environment unchanged; anything else makes it parse
again in full, as it would have).

A parse that fails or is not finished in time is dropped: the dbt step parses the
project itself and reports any error, as before.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from barometre.common.settings import Settings
from barometre.transform.partial_parse import save_partial_parse

WAIT_SECONDS = 300.0
"""Longest wait for the parse before the dbt step (then dropped: the step parses)."""

PREFIX = "preparse-"
"""A parse's folder under dbt's target folder: `preparse-<pid of the run>-<random>`."""


def remove_abandoned(target: Path) -> None:
    """Remove the parse folders of runs that no longer exist (a run killed by SIGKILL
    cannot remove its own); those of a live process are left alone."""
    for folder in target.glob(f"{PREFIX}*"):
        pid = folder.name.removeprefix(PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class Preparse:
    """A `dbt parse` running in a folder of its own."""

    def __init__(self, process: subprocess.Popen, folder: Path) -> None:
        self.process = process
        self.folder = folder

    def hand_over(self, cache: Path, timeout: float = WAIT_SECONDS) -> bool:
        """Wait for the parse, then put its state at `cache` (unless a state is there
        already); whether it was handed over. The folder is removed in any case."""
        try:
            try:
                status = self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return False
            if status != 0 or cache.exists():
                return False
            return save_partial_parse(self.folder, cache)  # as the dbt step saves it
        finally:
            self.close()

    def close(self) -> None:
        """Stop the parse if it still runs, and remove its folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_preparse(settings: Settings) -> Preparse | None:
    """A background `dbt parse` for a cold run of the DuckDB target (the warehouse file
    does not exist yet), else None. Call after `export_environment(settings)`: dbt reads
    the warehouse path from the environment, as the dbt step's child does."""
    if settings.target != "duckdb" or settings.warehouse.exists():
        return None
    target = settings.dbt_project_dir / "target"
    with contextlib.suppress(OSError):
        target.mkdir(parents=True, exist_ok=True)
        remove_abandoned(target)
        folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=target))
        project = str(settings.dbt_project_dir)
        command = [
            str(settings.dbt_executable),
            "parse",
            "--quiet",
            "--project-dir",
            project,
            "--profiles-dir",
            str(settings.dbt_profiles_dir),
            "--target-path",
            str(folder),
            "--log-path",
            str(folder),
        ]
        env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        try:
            process = subprocess.Popen(
                command,
                cwd=project,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        return Preparse(process, folder)
    return None
