"""The report step alone, cold: `build_report` of a published copy into an empty folder,
each time in a fresh process (no engine started yet, nothing preloaded, no chart cache),
as `barometre report --force` into a new folder would.

    .venv/bin/python benchmarks/report.py PUBLISHED_DIR [--repeat 3] [--preloaded]

PUBLISHED_DIR: a published copy (`BAROMETRE_PUBLISHED_DIR` of a `barometre run`).
`--preloaded` first runs what `barometre run` preloads while dbt builds (and waits for it,
as dbt's ~15 s would), then times the step alone: the report step of a cold run.
Prints, per run: the step's wall time, the CPU time of this process and of its
children (the second chart engine), the peak RSS of each, and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
published, out, preloaded = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "1"
from barometre.serve.report.build import build_report
if preloaded:
    import importlib
    from barometre.serve.cli import run
    module = importlib.import_module(run.PRELOADED_FOR_THE_REPORT)
    module.warm_up()
    time.sleep(3)  # the second engine's start, which dbt's seconds would hide
start = time.perf_counter()
cpu = time.process_time()
build_report(published, out, force=True)
wall = time.perf_counter() - start
cpu = time.process_time() - cpu
self_ = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "wall": wall, "cpu": cpu, "children_cpu": kids.ru_utime + kids.ru_stime,
    "rss_mib": self_.ru_maxrss / 1024, "children_rss_mib": kids.ru_maxrss / 1024,
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("published", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--preloaded", action="store_true")
    args = parser.parse_args()
    walls = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
            load = os.getloadavg()[0]
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CHILD,
                    str(args.published),
                    str(Path(tmp) / "out"),
                    "1" if args.preloaded else "0",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            m = json.loads(done.stdout.strip().splitlines()[-1])
            walls.append(m["wall"])
            print(
                f"run {i + 1}: wall {m['wall']:.2f} s, CPU {m['cpu']:.2f} s "
                f"(+ children {m['children_cpu']:.2f} s), peak RSS {m['rss_mib']:.0f} MiB "
                f"(children {m['children_rss_mib']:.0f} MiB), load {load:.2f}",
                flush=True,
            )
    print(f"median wall {statistics.median(walls):.2f} s over {len(walls)} runs")


if __name__ == "__main__":
    main()
