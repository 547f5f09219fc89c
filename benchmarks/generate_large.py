"""Write benchmark-size synthetic data and print how long it took and how big it is.

    .venv/bin/python benchmarks/generate_large.py --respondents 5000 \
        --questions-per-theme 20 --editions 4

Output goes to benchmarks/output/ (git-ignored) unless --out says otherwise: seeds/ (a
full synthetic seed set) and raw/<edition>/ (LimeSurvey CSV and SurveyMonkey XLSX
editions, alternating, with manifests). Everything is fabricated.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
try:
    from barometre.sample import generate_benchmark
except ImportError:  # package not installed: use the source tree
    sys.path.insert(0, str(ROOT / "orchestration"))
    from barometre.sample import generate_benchmark


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} GiB"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "output")
    p.add_argument("--respondents", type=int, default=5000, help="respondents per edition")
    p.add_argument("--questions-per-theme", type=int, default=20, help="10 themes; at most 99")
    p.add_argument("--editions", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    began = time.perf_counter()
    result = generate_benchmark(
        args.out, args.respondents, args.questions_per_theme, args.editions, args.seed
    )
    elapsed = time.perf_counter() - began
    seeds = args.out / "seeds"
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
