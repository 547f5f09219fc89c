"""Start a Dagster service (web server, daemon) of `barometre ui` once the code server
answers, having imported the service meanwhile.

`python -m barometre.serve.cli.ui_after_code SOCKET MODULE:FUNCTION ARGS...` imports
MODULE (Dagster's web server or daemon: seconds of imports, done while the code server
loads the definitions beside it), waits until the code server on the Unix socket SOCKET
answers a ping (it answers only once the definitions are loaded), then calls FUNCTION
(a click command) with ARGS. The web server thus listens with the code location
loaded, and the daemon's first sensor tick finds it.
"""

from __future__ import annotations

import importlib
import os
import sys
import time

WAIT_SECONDS = 180.0
"""After this long without an answer the service starts anyway: the web server then shows
the location as unreachable and Dagster's watch thread loads it once the server answers."""


def wait_for_code_server(socket: str, timeout: float) -> bool:
    """Whether the gRPC code server on `socket` answered a ping within `timeout` seconds."""
    from dagster._core.errors import DagsterUserCodeUnreachableError
    from dagster._grpc.client import DagsterGrpcClient

    client = DagsterGrpcClient(socket=socket, host="localhost")
    deadline = time.monotonic() + timeout
    while True:
        if os.path.exists(socket):
            try:
                client.ping("barometre ui")
                return True
            except DagsterUserCodeUnreachableError:
                pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def main(argv: list[str]) -> int:
    socket, target, *args = argv
    module_name, _, function = target.partition(":")
    command = getattr(importlib.import_module(module_name), function)
    wait_for_code_server(socket, WAIT_SECONDS)
    sys.argv = [module_name, *args]
    status: int = command()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
