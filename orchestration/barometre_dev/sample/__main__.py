"""The one entry point of the synthetic data generator (a development tool).

    .venv/bin/python -m barometre_dev.sample               # the bundled sample: data/raw/2021, 2018
    .venv/bin/python -m barometre_dev.sample --benchmark   # benchmark data: benchmarks/output/
    .venv/bin/python -m barometre_dev.sample --benchmark --respondents 20000 --out /tmp/bench

The bundled sample is committed (tests/test_sample.py checks it equals a fresh
generation): regenerate it after changing the generator or the seeds it reads. Benchmark
data (git-ignored) is for the scripts of benchmarks/; the sizes and the time taken are
printed. Everything written is fabricated.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from barometre.common.settings import PROJECT_ROOT, get_settings

from .benchmark import (
    DEFAULT_EDITIONS,
    DEFAULT_QUESTIONS_PER_THEME,
    DEFAULT_RESPONDENTS,
    DEFAULT_SEED,
    generate_benchmark,
)
from .generate import SAMPLE_SEED, generate_sample

SAMPLE_DIR = PROJECT_ROOT / "data" / "raw"
REFERENCE = PROJECT_ROOT / "data" / "reference" / "published_distributions_2021.csv"
BENCHMARK_DIR = PROJECT_ROOT / "benchmarks" / "output"


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} GiB"


def _print_benchmark(out: Path, result: dict, elapsed: float) -> None:
    seeds = out / "seeds"
    print(f"seeds in {seeds}:")
    for name, rows in result["seeds"].items():
        print(f"  {name:34} {rows:>9} rows  {_size((seeds / name).stat().st_size):>10}")
    total = 0
    print("editions:")
    for e in result["editions"]:
        total += e["bytes"]
        print(
            f"  {e['edition']}  {e['layout']:18} {e['data_rows']:>8} rows"
            f" x {e['questions']:>4} questions"
            f"  {_size(e['bytes']):>10}  {e['file']}"
        )
    print(f"total export size {_size(total)}; generated in {elapsed:.2f} s")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m barometre_dev.sample",
        description="Write the bundled synthetic sample (default) or benchmark-size data.",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"random seed (default {SAMPLE_SEED} for the sample, {DEFAULT_SEED} for --benchmark)",
    )
    sample = p.add_argument_group("the bundled sample")
    sample.add_argument(
        "--raw-dir", type=Path, default=SAMPLE_DIR, help=f"edition folders root ({SAMPLE_DIR})"
    )
    sample.add_argument(
        "--reference", type=Path, default=REFERENCE, help="published 2021 distributions CSV"
    )
    bench = p.add_argument_group("benchmark data")
    bench.add_argument("--benchmark", action="store_true", help="write benchmark data instead")
    bench.add_argument(
        "--out", type=Path, default=BENCHMARK_DIR, help=f"seeds/ and raw/ go here ({BENCHMARK_DIR})"
    )
    bench.add_argument(
        "--respondents", type=int, default=DEFAULT_RESPONDENTS, help="respondents per edition"
    )
    bench.add_argument(
        "--questions-per-theme",
        type=int,
        default=DEFAULT_QUESTIONS_PER_THEME,
        help="10 themes; at most 99",
    )
    bench.add_argument("--editions", type=int, default=DEFAULT_EDITIONS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.benchmark:
        began = time.perf_counter()
        result = generate_benchmark(
            args.out,
            args.respondents,
            args.questions_per_theme,
            args.editions,
            DEFAULT_SEED if args.seed is None else args.seed,
        )
        _print_benchmark(args.out, result, time.perf_counter() - began)
        return 0
    result = generate_sample(
        args.raw_dir,
        get_settings().seeds_dir,
        args.reference,
        SAMPLE_SEED if args.seed is None else args.seed,
    )
    for info in result["editions"].values():
        info.pop("questions", None)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
