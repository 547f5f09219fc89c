"""Small state and page files replaced whole: a reader (another run, a browser, BI) sees
the old content or the new one, never half of it.

The text is written to a hidden file beside the target, then renamed over it
(`os.replace`, rename(2): atomic on POSIX within one folder). The hidden name carries the
process and a random part, so two runs or two threads never share it; it is removed if
the write fails.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def write_text_atomically(path: Path, text: str) -> None:
    """Replace `path` (its folder created if needed) by `text`, UTF-8, in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        staging.write_text(text, encoding="utf-8")
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
