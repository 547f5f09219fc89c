"""Run one read of an export in a child process and measure its time and peak memory."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

_CHILD = r"""
import json, re, sys
from pathlib import Path
import duckdb
from barometre.ingest.errors import IngestError
from barometre.ingest.read_export import ReadSpec, read_export
spec = ReadSpec(**json.loads(sys.argv[2]))
try:
    table = read_export(duckdb.connect(), Path(sys.argv[1]), spec, "t")
    outcome = f"read {table.rows_read} counted {table.rows_counted}"
except IngestError as exc:
    outcome = exc.render()
# VmHWM, not ru_maxrss: ru_maxrss survives exec and can carry the parent's (pytest's)
# peak; the high-water mark of this process's own address space starts afresh at exec.
status = Path("/proc/self/status").read_text()
peak = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) // 1024
print(json.dumps({"outcome": outcome, "peak_mib": peak}))
"""


def read_in_child(path: Path, spec: dict, env: dict | None = None) -> tuple[str, float, int]:
    """(outcome: the rendered error or the row counts, seconds, peak RSS in MiB)."""
    import os

    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["outcome"], seconds, result["peak_mib"]
