"""Benchmark P3: XLSX ingestion against CSV ingestion of the same volume of answers.

Writes two synthetic editions of the same size (one LimeSurvey CSV, one SurveyMonkey
XLSX, as benchmarks/ingest_large.py does), then, each in a fresh child process, times
and measures the peak RSS of (a) reading the export into DuckDB (`read_export`) and
(b) the whole load of the edition (`load_edition`). Prints numbers; never a timed test.

    .venv/bin/python benchmarks/xlsx_vs_csv.py --respondents 20000
    .venv/bin/python benchmarks/xlsx_vs_csv.py --data /tmp/bench   # reuse generated files
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = """
import json, resource, sys, time
from pathlib import Path
import duckdb
folder, what = Path(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
if what == "read":
    from barometre.ingest.load import read_spec_of
    from barometre.ingest.manifest import load_manifest
    from barometre.ingest.read_export import read_export
    manifest = load_manifest(folder)
    table = read_export(duckdb.connect(), manifest.file_paths()[0], read_spec_of(manifest), "t")
    rows = table.rows_read
else:
    from barometre.ingest.load import load_edition
    load = load_edition(folder, folder.parent.parent / f"{folder.name}.duckdb",
                        folder.parent.parent / "seeds", max_bad_share=1.0)
    rows = load.rows_read
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps({"seconds": seconds, "peak_mib": peak, "rows": rows}))
"""


def measure(folder: Path, what: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(folder), what], capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    # DuckDB's progress bar may share the line: take what follows the last marker.
    return json.loads(done.stdout.rsplit("RESULT ", 1)[1].splitlines()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=20000)
    parser.add_argument("--questions-per-theme", type=int, default=10)
    parser.add_argument("--data", type=Path, help="reuse (or create) generated files here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = args.data or Path(tmp)
        if not (out / "raw").is_dir():
            from barometre_dev.sample import generate_benchmark

            generate_benchmark(
                out,
                respondents=args.respondents,
                questions_per_theme=args.questions_per_theme,
                editions=2,
                seed=1,
            )
        folders = sorted(p for p in (out / "raw").iterdir() if p.is_dir())
        results = {}
        print(f"{'edition':<8} {'format':<6} {'MB':>6} {'rows':>7} {'step':<5} {'s':>7} {'MiB':>6}")
        for folder in folders:
            export = next(p for p in folder.iterdir() if p.suffix in (".csv", ".xlsx"))
            for what in ("read", "load"):
                r = measure(folder, what)
                results[(export.suffix, what)] = r
                print(
                    f"{folder.name:<8} {export.suffix[1:]:<6} "
                    f"{export.stat().st_size / 1e6:>6.1f} {r['rows']:>7} {what:<5} "
                    f"{r['seconds']:>7.2f} {r['peak_mib']:>6.0f}"
                )
        for what in ("read", "load"):
            x, c = results[(".xlsx", what)], results[(".csv", what)]
            print(
                f"P3 {what}: XLSX / CSV = {x['seconds'] / c['seconds']:.2f}x time, "
                f"{x['peak_mib'] / c['peak_mib']:.2f}x peak memory"
            )


if __name__ == "__main__":
    main()
