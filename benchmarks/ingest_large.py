"""Benchmark: ingestion of large synthetic editions (both layouts) with their own seed set.

Prints numbers; never a timed test. Example:

    .venv/bin/python benchmarks/ingest_large.py --respondents 5000 --editions 2
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from barometre.ingest.editions import discover_editions
from barometre.ingest.load import load_edition
from barometre_dev.sample import generate_benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=5000)
    parser.add_argument("--questions-per-theme", type=int, default=10)
    parser.add_argument("--editions", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        start = time.perf_counter()
        generate_benchmark(
            out,
            respondents=args.respondents,
            questions_per_theme=args.questions_per_theme,
            editions=args.editions,
            seed=args.seed,
        )
        print(f"generate: {time.perf_counter() - start:.2f} s")
        warehouse = out / "bench.duckdb"
        for edition in discover_editions(out / "raw"):
            folder = out / "raw" / edition
            size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
            start = time.perf_counter()
            load = load_edition(folder, warehouse, out / "seeds", max_bad_share=1.0)
            seconds = time.perf_counter() - start
            print(
                f"ingest {edition} ({load.layout}, {size:.1f} MB): {seconds:.2f} s, "
                f"{load.rows_read} rows read, {load.answers} answers "
                f"({load.answers / seconds:,.0f} answers/s)"
            )


if __name__ == "__main__":
    main()
