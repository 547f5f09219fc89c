"""The report step alone, cold: `build_report` of a published copy into an empty folder,
each time in a fresh process (nothing imported yet), as `barometre report --force` into a
new folder would, and the time its charts take to draw.

    .venv/bin/python benchmarks/report.py PUBLISHED_DIR [--repeat 3]

PUBLISHED_DIR: a published copy (`BAROMETRE_PUBLISHED_DIR` of a `barometre run`).
Prints, per run: the step's wall time (the page's and charts' imports included), its
CPU time, peak RSS and the load average; the charts drawn during the step
(barometre.serve.report.charts, each call timed): how many, their total, median and
slowest time.
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
import json, resource, statistics, sys, time
from pathlib import Path
published, out = Path(sys.argv[1]), Path(sys.argv[2])
from barometre.serve.report.build import build_report
start = time.perf_counter()  # as before session 9: the drawing's imports are timed
cpu = time.process_time()
from barometre.serve.report import charts

draws = []

def timed(draw):
    def drawing(*args, **kwargs):
        began = time.perf_counter()
        try:
            return draw(*args, **kwargs)
        finally:
            draws.append(time.perf_counter() - began)
    return drawing

for name in ("stacked_levels", "mean_intervals", "group_shares", "edition_comparison"):
    setattr(charts, name, timed(getattr(charts, name)))
build_report(published, out, force=True)
wall = time.perf_counter() - start
cpu = time.process_time() - cpu
print(json.dumps({
    "wall": wall, "cpu": cpu,
    "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "charts": len(draws), "charts_s": sum(draws),
    "chart_median_ms": 1000 * statistics.median(draws) if draws else 0.0,
    "chart_max_ms": 1000 * max(draws, default=0.0),
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("published", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    walls = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
            load = os.getloadavg()[0]
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(args.published), str(Path(tmp) / "out")],
                capture_output=True,
                text=True,
                check=True,
            )
            m = json.loads(done.stdout.strip().splitlines()[-1])
            walls.append(m["wall"])
            print(
                f"run {i + 1}: wall {m['wall']:.2f} s, CPU {m['cpu']:.2f} s, peak RSS "
                f"{m['rss_mib']:.0f} MiB; {m['charts']} charts drawn in "
                f"{1000 * m['charts_s']:.0f} ms (median {m['chart_median_ms']:.1f} ms, "
                f"slowest {m['chart_max_ms']:.1f} ms); load {load:.2f}",
                flush=True,
            )
    print(f"median wall {statistics.median(walls):.2f} s over {len(walls)} runs")


if __name__ == "__main__":
    main()
