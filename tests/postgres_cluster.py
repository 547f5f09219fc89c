"""A throw-away PostgreSQL cluster for the slow tests: Debian's `postgresql` binaries,
`initdb` + `pg_ctl` in a temporary folder, a free local port, the unix socket in that
folder, no root service. `make postgres` (run by `make test`) installs the package."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
"""Debian installs each major version's server binaries under /usr/lib/postgresql/N/bin."""


def pg_bin_dir() -> Path | None:
    """The newest server binaries installed (initdb, pg_ctl), or None."""
    for folder in PG_BIN_DIRS:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(args: list[str], **kwargs: object) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {result.stdout}{result.stderr}")


@contextmanager
def throwaway_cluster(bin_dir: Path) -> Iterator[str]:
    """Start a cluster in a new private temporary folder; yield its libpq DSN (superuser
    `barometre`, database `warehouse`); stop it and remove the folder on exit.

    The folder is not under pytest's basetemp: pytest prunes old numbered basetemps of
    the same user when another session starts, which would pull the data folder from
    under a running server. initdb refuses to run as root: as root, the cluster belongs
    to `nobody`, who owns the folder."""
    folder = Path(tempfile.mkdtemp(prefix="barometre-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    as_user: dict[str, object] = {}
    if os.geteuid() == 0:
        import pwd

        nobody = pwd.getpwnam("nobody")
        for path in (folder, sockets):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        as_user = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
    port = _free_port()
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                *("-D", str(data), "-U", "barometre", "-A", "trust"),
                *("-E", "UTF8", "--locale", "C.UTF-8"),
            ],
            **as_user,
        )
        options = f"-p {port} -k {sockets} -c listen_addresses='' -c fsync=off"
        _run(
            [
                str(bin_dir / "pg_ctl"),
                *("-D", str(data), "-l", str(folder / "server.log")),
                *("-o", options, "-w", "start"),
            ],
            **as_user,
        )
        try:
            createdb = bin_dir / "createdb"
            _run(
                [
                    str(createdb) if createdb.is_file() else "createdb",
                    *("-h", str(sockets), "-p", str(port), "-U", "barometre", "warehouse"),
                ],
            )
            yield f"host={sockets} port={port} user=barometre dbname=warehouse"
        finally:
            subprocess.run(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                check=False,
                **as_user,  # type: ignore[call-overload]
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
