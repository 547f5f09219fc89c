"""The warm dbt process (barometre.transform.warm_dbt): imports dbt, parses the project with
`dbtRunner`, keeps the manifest in memory, then runs ONE dbt command handed over by the
shim (barometre.transform.dbt_shim) with that manifest (`dbtRunner(manifest=…)`, dbt's
documented reuse of a parsed project) and exits.

`python -u -m barometre.transform.warm_dbt_server SOCKET FOLDER PROJECT_DIR PROFILES_DIR`;
stdout: status lines for the parent (`ready <parse seconds>`, `failed <why>`, `served`,
`refused <why>`); stdin: the parent's pipe, whose end (the run ended, or was killed)
ends this process, interrupting a build it runs.

A build is refused (the shim then runs the real dbt, which parses as today) when what
the parse depended on may have changed since: a file of the project (sizes and
modification times), the environment variables the project or profile can read, or
arguments that change the parse (`--vars`, another profile, target or project).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from barometre.transform.dbt_shim import (
    ACCEPTED,
    ENV_REAL_DBT,
    ENV_SOCKET,
    EXIT,
    REFUSED,
    SIGNALS,
    read_exact,
)

COMMANDS = frozenset({"build", "run", "test", "seed"})
"""Commands served (those that take a parsed manifest and need nothing more)."""
PARSE_ARGS = frozenset({"--vars", "--profile", "--target", "-t", "--project-dir", "--profiles-dir"})
"""Arguments that would make dbt's parse differ from the one made here: refused."""
SET_BY_DAGSTER = frozenset(
    {
        "DBT_LOG_FORMAT",
        "DBT_TARGET_PATH",
        "DBT_LOG_PATH",
        "DBT_SEND_ANONYMOUS_USAGE_STATS",
        "DBT_INDIRECT_SELECTION",
        "DBT_PROFILES_DIR",  # checked against the parse's own below
        "DBT_PROJECT_DIR",
        ENV_SOCKET,
        ENV_REAL_DBT,
    }
)
"""Variables dagster-dbt (and the step) set for each invocation: output, not parse."""
SKIPPED_FOLDERS = frozenset({"target", "logs"})


MAX_REQUEST_BYTES = 4 * 1024 * 1024
"""Largest request the warm process reads from the shim (its argv, environment and
working folder take a few KB); a larger one is refused and the shim runs the real dbt."""


def project_fingerprint(project: Path) -> dict[str, tuple[int, int]]:
    """Every file of the dbt project (dbt's own output folders aside) with its size and
    modification time."""
    found: dict[str, tuple[int, int]] = {}
    for folder, subfolders, files in os.walk(project):
        subfolders[:] = [
            s for s in subfolders if s not in SKIPPED_FOLDERS and not s.startswith(".")
        ]
        for name in files:
            path = os.path.join(folder, name)
            with contextlib.suppress(OSError):
                stat = os.stat(path)
                found[os.path.relpath(path, project)] = (stat.st_size, stat.st_mtime_ns)
    return found


def _parse_environment(env: dict[str, str], used: set[str]) -> dict[str, str]:
    """The variables a parse can depend on: the project's and profile's (BAROMETRE_*,
    DBT_*, those read by `env_var()` in the project), output-only ones aside."""
    return {
        k: v
        for k, v in env.items()
        if (k.startswith(("BAROMETRE_", "DBT_")) or k in used) and k not in SET_BY_DAGSTER
    }


def refusal(
    request: dict[str, Any],
    parsed: dict[str, Any],
) -> str | None:
    """Why this request cannot use the parse made here (None: it can)."""
    argv = request["argv"]
    if len(argv) < 2 or argv[1] not in COMMANDS:
        return f"not a build command: {argv[1:2]}"
    given = {a.split("=", 1)[0] for a in argv[1:]}
    if given & PARSE_ARGS:
        return f"arguments that change the parse: {sorted(given & PARSE_ARGS)}"
    env = request["env"]
    for name, value in (
        ("DBT_PROFILES_DIR", parsed["profiles"]),
        ("DBT_PROJECT_DIR", parsed["project"]),
    ):
        if name in env and os.path.realpath(env[name]) != os.path.realpath(value):
            return f"{name} is not the parsed project's"
    used = parsed["used"]
    if _parse_environment(env, used) != _parse_environment(parsed["env"], used):
        return "the environment changed since the parse"
    if project_fingerprint(Path(parsed["project"])) != parsed["files"]:
        return "the project's files changed since the parse"
    return None


def parse(folder: Path, project: Path, profiles: Path) -> Any:
    """The project parsed by dbt in this process (its partial-parse state, restored in
    `folder` by the parent, checked by dbt as a `dbt build` would): the manifest."""
    from dbt.cli.main import dbtRunner

    args = [
        "parse",
        "--quiet",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(profiles),
        "--target-path",
        str(folder),
        "--log-path",
        str(folder),
    ]
    sys.argv = ["dbt", *args]  # dbt reads its command line there too (flags.py)
    result = dbtRunner().invoke(args)
    if not result.success or result.result is None:
        raise RuntimeError(str(result.exception or "dbt parse failed"))
    return result.result


def run_command(manifest: Any, args: list[str]) -> int:
    """`dbt <args>` with the parsed manifest; dbt's exit code (0 success, 1 failures, 2
    error: as dbt's own command line maps them)."""
    from dbt import deprecations
    from dbt.cli.main import dbtRunner

    # dbt warns of a deprecation once per process: the parse fired them already.
    deprecations.active_deprecations.clear()
    stamped: list[bool] = []

    def stamp(event: Any) -> None:
        # dbt stamps a reused parse with the invocation that uses it (its manifest.json)
        if not stamped:
            stamped.append(True)
            manifest.metadata.invocation_id = event.info.invocation_id
            manifest.metadata.generated_at = datetime.now(UTC).replace(tzinfo=None)

    result = dbtRunner(manifest=manifest, callbacks=[stamp]).invoke(args)
    if result.success:
        return 0
    return 2 if result.exception is not None else 1


def release_connections() -> None:
    """What the exit of dbt's own process does (dbt-duckdb's `atexit`; this process ends
    with `os._exit`): the warehouse closed, so it is whole on disk and free for the next
    step before the shim reports the end. dbt-duckdb keeps its database open between
    invocations (`keep_open`)."""
    with contextlib.suppress(Exception):
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager as manager

        with manager._LOCK:
            env, manager._ENV = manager._ENV, None
        if env is not None:
            env.close()
    gc.collect()


class Server:
    """One parse, one command, then the end."""

    def __init__(self, socket_path: str, folder: Path, project: Path, profiles: Path) -> None:
        self.socket_path = socket_path
        self.folder = folder
        self.project = project
        self.profiles = profiles
        self.status = os.fdopen(os.dup(1), "w", buffering=1)
        self.devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(self.devnull, 1)  # dbt's output of the parse goes nowhere
        self.serving = threading.Event()
        self.done = threading.Event()

    def say(self, line: str) -> None:
        with contextlib.suppress(OSError):
            self.status.write(line.replace("\n", " ") + "\n")
            self.status.flush()

    def watch_parent(self) -> None:
        """The parent's pipe closed (the run ended or died): stop."""
        with contextlib.suppress(OSError):
            while sys.stdin.buffer.read(4096):
                pass
        if self.serving.is_set():
            if not self.done.is_set():
                os.kill(os.getpid(), signal.SIGINT)  # as a Ctrl-C: dbt stops, then we exit
            return
        with contextlib.suppress(OSError):
            os.unlink(self.socket_path)
        os._exit(0)

    def run(self) -> int:
        threading.Thread(target=self.watch_parent, name="parent", daemon=True).start()
        parsed: dict[str, Any] = {
            "project": str(self.project),
            "profiles": str(self.profiles),
            "env": dict(os.environ),
            "files": project_fingerprint(self.project),
        }
        os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        started = time.monotonic()
        try:
            manifest = parse(self.folder, self.project, self.profiles)
        except Exception as err:  # the step's own dbt reports any parse error
            self.say(f"failed {type(err).__name__}: {err}")
            return 1
        parsed["used"] = set(getattr(manifest, "env_vars", {}) or {})
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.socket_path)
        listener.listen(1)
        self.say(f"ready {time.monotonic() - started:.2f}")
        connection, _ = listener.accept()
        listener.close()
        with contextlib.suppress(OSError):
            os.unlink(self.socket_path)
        with connection:
            return self.serve(connection, manifest, parsed)

    def serve(self, connection: socket.socket, manifest: Any, parsed: dict[str, Any]) -> int:
        connection.settimeout(10)
        _data, fds, _flags, _addr = socket.recv_fds(connection, 1, 2)
        try:
            (size,) = struct.unpack("!I", read_exact(connection, 4))
            if size > MAX_REQUEST_BYTES:  # argv, environment and folder: a few KB
                raise ValueError(f"{size} bytes, over the limit of {MAX_REQUEST_BYTES}")
            request = json.loads(read_exact(connection, size))
            why = None if len(fds) == 2 else "no output descriptors"
            why = why or refusal(request, parsed)
        except (OSError, ValueError, struct.error) as err:
            why = f"bad request: {err}"
        if why is not None:
            for fd in fds:
                os.close(fd)
            self.say(f"refused {why}")
            with contextlib.suppress(OSError):
                connection.sendall(REFUSED + why.encode())
            return 0
        self.say("served")
        connection.settimeout(None)
        self.serving.set()
        connection.sendall(ACCEPTED)
        threading.Thread(
            target=self.forward_signals, args=(connection,), name="signals", daemon=True
        ).start()
        code = 2
        try:
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])
            os.dup2(fds[0], 1)
            os.dup2(fds[1], 2)
            for fd in fds:
                os.close(fd)
            # dbt reads its command line from sys.argv too (flags: which options the
            # user gave, run_results.json's invocation_command): the real dbt's
            sys.argv = ["dbt", *request["argv"][1:]]
            code = run_command(manifest, request["argv"][1:])
        except KeyboardInterrupt:
            code = 2
        finally:
            release_connections()
            self.done.set()
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os.dup2(self.devnull, 1)  # the pipe ends when the shim ends, not us
            os.dup2(self.devnull, 2)
        with contextlib.suppress(OSError):
            connection.sendall(EXIT + struct.pack("!i", code))
        return 0

    def forward_signals(self, connection: socket.socket) -> None:
        """A signal the shim received, delivered here; the shim gone: an interrupt."""
        by_byte = {code: number for number, code in SIGNALS.items()}
        while not self.done.is_set():
            try:
                data = connection.recv(1)
            except OSError:
                data = b""
            if not data:
                if not self.done.is_set():
                    os.kill(os.getpid(), signal.SIGINT)
                return
            number = by_byte.get(data)
            if number is not None and not self.done.is_set():
                os.kill(os.getpid(), number)


def main(argv: list[str] | None = None) -> int:
    socket_path, folder, project, profiles = (argv or sys.argv[1:])[:4]
    return Server(socket_path, Path(folder), Path(project), Path(profiles)).run()


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # no teardown of dbt's modules: nothing left to do
