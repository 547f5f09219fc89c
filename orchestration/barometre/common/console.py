"""Printing for the CLI: progress on stdout, errors on stderr (never a traceback)."""

from __future__ import annotations

import errno
import sys


def say(message: str) -> None:
    print(message, flush=True)


def fail(message: str) -> int:
    """Print an error for a person and return the exit status 1."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    return 1


def describe_os_error(err: OSError) -> str:
    """One line for a failed file operation: which path, what, and what to do."""
    where = f" {err.filename}" if err.filename else ""
    if err.errno == errno.ENOSPC:
        return (
            f"disk full while writing{where}: free space on that disk (or point the "
            "setting at another one), then run the command again"
        )
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"not allowed to write{where} ({err.strerror}): check its permissions"
    return f"{err.strerror or type(err).__name__}{':' + where if where else ''}"
