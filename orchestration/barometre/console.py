"""Printing for the CLI: progress on stdout, errors on stderr (never a traceback)."""

from __future__ import annotations

import sys


def say(message: str) -> None:
    print(message, flush=True)


def fail(message: str) -> int:
    """Print an error for a person and return the exit status 1."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    return 1
