"""Integer calibration of the sample against the distributions printed in the 2021 report.

The report prints, per question, the share of answering respondents at each level
rounded to whole percent. With at most 34 respondents a printed row usually pins
down one (number answering, counts per level); rows with no such solution are
misprints and get the closest achievable counts instead. Integer arithmetic only,
so the result never depends on floating-point rounding.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MAX_RESPONDENTS = 34


def round_half_up_pct(count: int, n: int) -> int:
    """100*count/n rounded half up, as the report rounds (exact, no float)."""
    return (200 * count + n) // (2 * n)


def percentages(counts: tuple[int, ...]) -> tuple[int, ...]:
    """Rounded percentages of a count vector."""
    n = sum(counts)
    return tuple(round_half_up_pct(c, n) for c in counts)


@dataclass(frozen=True)
class Calibration:
    """Counts chosen for one published row."""

    theme_code: str
    order_in_theme: int
    printed: tuple[int, ...]
    n: int
    counts: tuple[int, ...]
    exact: bool  # True: the counts reproduce every printed percentage
    alternatives: int  # number of exact (n, counts) solutions (0 for a misprint)

    @property
    def achieved(self) -> tuple[int, ...]:
        return percentages(self.counts)

    @property
    def error(self) -> int:
        return sum(abs(a - p) for a, p in zip(self.achieved, self.printed, strict=True))


def exact_solutions(
    printed: tuple[int, ...], max_n: int = MAX_RESPONDENTS
) -> list[tuple[int, ...]]:
    """Every count vector (any n ≤ max_n) whose rounded percentages equal the printed ones.

    For n ≤ 100 two counts never round to the same percentage, so each level has at
    most one candidate count per n.
    """
    found: list[tuple[int, ...]] = []
    for n in range(1, max_n + 1):
        counts: list[int] = []
        for pct in printed:
            match = [c for c in range(n + 1) if round_half_up_pct(c, n) == pct]
            if not match:
                break
            counts.append(match[0])
        else:
            if sum(counts) == n:
                found.append(tuple(counts))
    return found


def closest_solution(
    printed: tuple[int, ...], max_n: int = MAX_RESPONDENTS, min_n: int = 1
) -> tuple[int, ...]:
    """Counts minimising the total absolute error of the rounded percentages.

    Ties: the largest n, then the lexicographically largest counts (deterministic).
    Dynamic programme over levels: best[remaining] = (error, counts) per n.
    """
    best_key: tuple | None = None
    best_counts: tuple[int, ...] = ()
    for n in range(min_n, max_n + 1):
        errors = [[abs(round_half_up_pct(c, n) - pct) for c in range(n + 1)] for pct in printed]
        table: list[tuple[int, tuple[int, ...]] | None] = [(0, ())] + [None] * n
        for err_of in errors:
            nxt: list[tuple[int, tuple[int, ...]] | None] = [None] * (n + 1)
            for used, entry in enumerate(table):
                if entry is None:
                    continue
                err, cs = entry
                for c in range(n - used + 1):
                    e = err + err_of[c]
                    cur = nxt[used + c]
                    # lower error wins; on a tie the larger counts, level by level
                    if cur is None or e < cur[0] or (e == cur[0] and (*cs, c) > cur[1]):
                        nxt[used + c] = (e, (*cs, c))
            table = nxt
        final = table[n]
        if final is None:
            continue
        err, cs = final
        key = (err, -n, tuple(-x for x in cs))
        if best_key is None or key < best_key:
            best_key, best_counts = key, cs
    return best_counts


@lru_cache(maxsize=4096)
def calibrate_row(
    theme_code: str,
    order: int,
    printed: tuple[int, ...],
    max_n: int = MAX_RESPONDENTS,
    min_n: int = 1,
) -> Calibration:
    """Exact solution with the largest n, else the closest one."""
    sols = exact_solutions(printed, max_n)
    if sols:
        return Calibration(theme_code, order, printed, sum(sols[-1]), sols[-1], True, len(sols))
    counts = closest_solution(printed, max_n, min_n)
    return Calibration(theme_code, order, printed, sum(counts), counts, False, 0)


def read_published(reference_csv: Path) -> list[dict[str, str]]:
    """Rows of published_distributions_2021.csv."""
    with open(reference_csv, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def calibrate_published(
    reference_csv: Path, max_n: int = MAX_RESPONDENTS, min_n: int = 1
) -> dict[tuple[str, int], Calibration]:
    """Calibration of every printed row, keyed by (theme_code, order_in_theme)."""
    out: dict[tuple[str, int], Calibration] = {}
    for row in read_published(reference_csv):
        levels = sorted(k for k in row if k.startswith("pct_level_"))
        printed = tuple(int(row[k]) for k in levels)
        key = (row["theme_code"], int(row["order_in_theme"]))
        out[key] = calibrate_row(key[0], key[1], printed, max_n, min_n)
    return out
