"""`python -m barometre.sample`: regenerate the bundled sample, or benchmark data.

python -m barometre.sample                      # data/raw/2021 and data/raw/2018
python -m barometre.sample --benchmark --out /tmp/bench --respondents 5000
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .benchmark import generate_benchmark
from .generate import SAMPLE_SEED, generate_sample


def _project_root() -> Path:
    try:
        from barometre.settings import PROJECT_ROOT
    except ImportError:  # package used outside the project layout
        return Path(__file__).resolve().parents[3]
    return Path(PROJECT_ROOT)


def _defaults() -> tuple[Path, Path, Path]:
    root = _project_root()
    try:
        from barometre.settings import get_settings

        settings = get_settings()
        raw, seeds = settings.data_dir, settings.seeds_dir
    except ImportError:
        raw, seeds = root / "data" / "raw", root / "seeds"
    return raw, seeds, root / "data" / "reference" / "published_distributions_2021.csv"


def main(argv: list[str] | None = None) -> int:
    raw, seeds, reference = _defaults()
    p = argparse.ArgumentParser(
        prog="python -m barometre.sample", description=__doc__.splitlines()[0]
    )
    p.add_argument(
        "--raw-dir", type=Path, default=raw, help=f"edition folders root (default {raw})"
    )
    p.add_argument(
        "--seeds-dir", type=Path, default=seeds, help=f"reference seeds (default {seeds})"
    )
    p.add_argument(
        "--reference", type=Path, default=reference, help="published 2021 distributions CSV"
    )
    p.add_argument(
        "--seed", type=int, default=None, help=f"random seed (default {SAMPLE_SEED}; benchmark 1)"
    )
    p.add_argument("--benchmark", action="store_true", help="write benchmark-size data instead")
    p.add_argument(
        "--out",
        type=Path,
        default=_project_root() / "benchmarks" / "output",
        help="benchmark output folder (seeds/ and raw/)",
    )
    p.add_argument(
        "--respondents", type=int, default=1000, help="benchmark respondents per edition"
    )
    p.add_argument(
        "--questions-per-theme", type=int, default=10, help="benchmark questions per theme (≤ 99)"
    )
    p.add_argument("--editions", type=int, default=4, help="benchmark editions")
    args = p.parse_args(argv)
    if args.benchmark:
        result = generate_benchmark(
            args.out,
            args.respondents,
            args.questions_per_theme,
            args.editions,
            1 if args.seed is None else args.seed,
        )
    else:
        result = generate_sample(
            args.raw_dir,
            args.seeds_dir,
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
