"""`barometre-dbt-shim`: what dagster-dbt starts instead of `dbt` when this run's warm dbt
process (barometre.transform.warm_dbt) has parsed the project: the build runs there.

Standard library only, and nothing of barometre imported but this module (its start is
that of a bare Python, ~20 ms). It hands the warm process its argv, environment, working
folder and its stdout/stderr descriptors (SCM_RIGHTS over the process's Unix socket), so
dbt writes its JSON lines straight into dagster-dbt's pipe; it forwards SIGINT/SIGTERM
(dagster-dbt's termination, Ctrl-C) and exits with dbt's exit code (0 success, 1 failures,
2 error). When the warm process is not there, refuses or anything else is off before it
took the build, the shim becomes the real dbt (`exec`, the same argv): today's path.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys
from typing import NoReturn

ENV_SOCKET = "BAROMETRE_WARM_DBT_SOCKET"
"""The warm process's Unix socket (set by the dbt step for its one dbt invocation)."""
ENV_REAL_DBT = "BAROMETRE_WARM_DBT_REAL"
"""The dbt executable to become when the warm process cannot take the build."""

ACCEPTED = b"A"
"""Warm process → shim: the build is taken (then the exit code, `EXIT` + 4 bytes)."""
REFUSED = b"R"
"""Warm process → shim: not taken (a reason follows, up to the end): run the real dbt."""
EXIT = b"X"
SIGNALS = {signal.SIGINT: b"I", signal.SIGTERM: b"T"}
"""Shim → warm process: a signal this shim received, to deliver to the build."""

CONNECT_SECONDS = 5.0
"""Longest wait for the warm process to answer before the real dbt is run instead."""


def send_request(sock: socket.socket, argv: list[str], env: dict[str, str], cwd: str) -> None:
    """The request: stdout and stderr's descriptors, then argv, environment and folder
    (length-prefixed JSON)."""
    socket.send_fds(sock, [b"F"], [sys.stdout.fileno(), sys.stderr.fileno()])
    body = json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode()
    sock.sendall(struct.pack("!I", len(body)) + body)


def read_exact(sock: socket.socket, size: int) -> bytes:
    """`size` bytes, or fewer when the peer closed the connection."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _real_dbt(argv: list[str], why: str) -> NoReturn:
    real = os.environ.get(ENV_REAL_DBT) or os.path.join(os.path.dirname(argv[0]), "dbt")
    if os.environ.get("BAROMETRE_WARM_DBT_DEBUG"):
        print(f"barometre-dbt-shim: real dbt ({why})", file=sys.stderr, flush=True)
    env = {k: v for k, v in os.environ.items() if k not in (ENV_SOCKET, ENV_REAL_DBT)}
    try:
        os.execve(real, [real, *argv[1:]], env)
    except OSError as err:
        print(f"barometre-dbt-shim: cannot run {real}: {err}", file=sys.stderr, flush=True)
        os._exit(2)


def main(argv: list[str] | None = None) -> int:
    """Run dbt's `argv[1:]` in the warm process, else exec the real dbt."""
    argv = list(sys.argv if argv is None else argv)
    path = os.environ.get(ENV_SOCKET)
    if not path:
        _real_dbt(argv, "no warm process")
    env = {k: v for k, v in os.environ.items() if k not in (ENV_SOCKET, ENV_REAL_DBT)}
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(CONNECT_SECONDS)
        sock.connect(str(path))
        send_request(sock, argv, env, os.getcwd())
        answer = read_exact(sock, 1)
    except OSError as err:
        sock.close()
        _real_dbt(argv, f"warm process unreachable: {err}")
    if answer != ACCEPTED:
        reason = b"" if answer != REFUSED else sock.recv(4096)
        sock.close()
        _real_dbt(argv, f"refused: {reason.decode(errors='replace') or 'no answer'}")
    sock.settimeout(None)
    received: list[int] = []

    def forward(number: int, _frame: object) -> None:
        received.append(number)
        with contextlib.suppress(OSError):
            sock.send(SIGNALS[signal.Signals(number)])

    for number in SIGNALS:
        signal.signal(number, forward)
    try:
        tail = read_exact(sock, 5)
    except OSError:
        tail = b""
    sock.close()
    if len(tail) == 5 and tail[:1] == EXIT:
        return int(struct.unpack("!i", tail[1:])[0])
    # The warm process ended without an exit code: killed (as a dbt killed by a signal).
    if signal.SIGTERM in received:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    print("barometre-dbt-shim: the warm dbt process ended during the build", file=sys.stderr)
    return 2


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
