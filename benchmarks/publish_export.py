"""Time publishing and exporting, and what BI readers notice while a publication happens.

    .venv/bin/python benchmarks/publish_export.py                    # synthetic marts
    .venv/bin/python benchmarks/publish_export.py --rows 2000000     # bigger marts
    .venv/bin/python benchmarks/publish_export.py --working warehouse/barometre.duckdb

With --working, the given warehouse is only read (never written); by default a
synthetic working warehouse with marts of --rows rows is made in a temporary folder.
Prints: publish time (median of --runs), size of the published file and Parquet,
CSV and Parquet export times, and the latency of reader queries (separate processes)
during back-to-back publications, with the number of reader errors (expected: 0).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
try:
    import barometre  # noqa: F401
except ImportError:  # package not installed: use the source tree
    sys.path.insert(0, str(ROOT / "orchestration"))

import duckdb  # noqa: E402

from barometre.publish.publication import publish  # noqa: E402
from barometre.serve.export import export_marts  # noqa: E402

READER = r"""
import json, sys, time
from pathlib import Path
import duckdb
published, stop = Path(sys.argv[1]), Path(sys.argv[2])
latencies, errors = [], 0
while not stop.exists():
    started = time.perf_counter()
    try:
        con = duckdb.connect(str(published / "barometre.duckdb"), read_only=True)
        con.execute("SELECT version FROM meta.publication").fetchone()
        for (t,) in con.execute("SELECT schema_name || '.' || table_name FROM meta.tables "
                                "WHERE schema_name = 'marts'").fetchall():
            con.execute(f"SELECT count(*) FROM {t}").fetchone()
        con.close()
        latencies.append(time.perf_counter() - started)
    except Exception:
        errors += 1
print(json.dumps({"latencies": latencies, "errors": errors}))
"""


def synthetic_working(path: Path, rows: int) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE SCHEMA reference")
    con.execute(f"""
        CREATE TABLE marts.mart_question_distribution AS
        SELECT CAST(2018 + i % 4 AS VARCHAR) AS edition_code,
               'T' || lpad(CAST(i % 10 AS VARCHAR), 2, '0') || '_Q' ||
               lpad(CAST(i % 97 AS VARCHAR), 2, '0') AS question_code,
               CAST(i % 6 + 1 AS INTEGER) AS level, (i % 1000) / 1000.0 AS share,
               'segment ' || CAST(i % 50 AS VARCHAR) AS segment_label_fr
        FROM range({rows}) r(i)""")
    con.execute(f"""
        CREATE TABLE marts.mart_theme_maturity AS
        SELECT CAST(2018 + i % 4 AS VARCHAR) AS edition_code,
               'T' || lpad(CAST(i % 10 AS VARCHAR), 2, '0') AS theme_code,
               (i % 500) / 100.0 AS mean_maturity, CAST(i % 80 AS INTEGER) AS n_respondents
        FROM range({max(rows // 10, 1)}) r(i)""")
    con.execute("CREATE TABLE reference.editions AS SELECT '2021' AS edition_code")
    con.close()
    return path


def _size(path: Path) -> str:
    n = (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        if path.is_dir()
        else path.stat().st_size
    )
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}"
        n /= 1024
    return ""


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--working", help="working warehouse to read (default: synthetic)")
    parser.add_argument(
        "--rows", type=int, default=500_000, help="rows of the largest synthetic mart"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--readers", type=int, default=3)
    parser.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help="duration of the readers-during-publication part",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="barometre-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if args.working:
            working = Path(args.working).resolve()
        else:
            print(f"synthetic working warehouse, largest mart {args.rows:,} rows…", flush=True)
            working = synthetic_working(tmp / "working.duckdb", args.rows)
        published = tmp / "published"

        times = [_timed(lambda: publish(working, published)) for _ in range(args.runs)]
        current = (published / "current").resolve()
        print(
            f"publish:          median {statistics.median(times):.2f} s "
            f"(runs: {', '.join(f'{t:.2f}' for t in times)})"
        )
        print(
            f"published file:   {_size(current / 'barometre.duckdb')}, "
            f"Parquet {_size(current / 'parquet')}"
        )
        db = published / "barometre.duckdb"
        print(
            f"export CSV:       {_timed(lambda: export_marts(db, tmp / 'x', ('csv',))):.2f} s"
            f" ({_size(tmp / 'x' / 'csv')})"
        )
        print(
            f"export Parquet:   {_timed(lambda: export_marts(db, tmp / 'x', ('parquet',))):.2f} s"
        )

        stop = tmp / "stop"
        readers = [
            subprocess.Popen(
                [sys.executable, "-c", READER, str(published), str(stop)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(args.readers)
        ]
        deadline, publications = time.monotonic() + args.seconds, 0
        while time.monotonic() < deadline:
            publish(working, published)
            publications += 1
        stop.touch()
        results = [json.loads(r.communicate()[0]) for r in readers]
        latencies = sorted(x for r in results for x in r["latencies"])
        errors = sum(r["errors"] for r in results)
        if latencies:
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            print(
                f"readers:          {len(latencies)} reads during {publications} "
                f"publications, p50 {statistics.median(latencies) * 1000:.1f} ms, "
                f"p99 {p99 * 1000:.1f} ms, errors {errors}"
            )
        else:
            print(f"readers:          no read completed, errors {errors}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
