"""Whether a process still exists: folders named after the process that made them
(XLSX spools, the warm dbt process's parse folders) are removed once it is gone."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """Whether process `pid` exists (another user's process counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
