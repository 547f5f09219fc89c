"""Deterministic generator of the bundled SYNTHETIC sample exports and of benchmark data.

`generate_sample` writes data/raw/2021 (LimeSurvey CSV) and data/raw/2018 (SurveyMonkey
XLSX) calibrated on the 2021 report; `generate_benchmark` writes a large synthetic seed
set and editions to measure the pipeline. The answers are fabricated, always. Entry
point: `python -m barometre_dev.sample` (__main__.py).
"""

from .benchmark import generate_benchmark
from .generate import SAMPLE_SEED, generate_sample

__all__ = ["SAMPLE_SEED", "generate_benchmark", "generate_sample"]
