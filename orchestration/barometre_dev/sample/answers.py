"""Per-question distributions and their hand-out to respondents.

A distribution is a vector of integer counts per level. Narrative figures fix a few
cumulative counts ("33 % at level ≤ 2"); the levels in between follow a shape (a
discretised bell, or the other edition's distribution of the same question) by
largest remainders. Levels are then handed out by sorting respondents on latent
maturity + noise, so each question's distribution stays exactly as calibrated
while a respondent's answers stay correlated.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise
from typing import TypeVar

Counts = tuple[int, ...]


def rounded_pct(count: int, n: int, decimals: int = 0) -> Fraction:
    """100*count/n rounded half up to `decimals` places, exactly."""
    scale = 10**decimals
    return Fraction((200 * scale * count + n) // (2 * n), scale)


def _decimals(target: float) -> int:
    return 0 if float(target).is_integer() else 1


@lru_cache(maxsize=65536)
def best_count(n: int, target: float) -> tuple[int, bool]:
    """Count out of n whose rounded percentage is closest to target; exact flag.

    Integer arithmetic in units of 10^-decimals percent; ties → closest unrounded
    share, then the smaller count.
    """
    scale = 10 ** _decimals(target)
    goal = round(float(target) * scale)

    def key(c: int) -> tuple[int, int, int]:
        rounded = (200 * scale * c + n) // (2 * n)
        return abs(rounded - goal), abs(100 * scale * c - goal * n), c

    best = min(range(n + 1), key=key)
    return best, key(best)[0] == 0


def parse_share(key: str, levels: int) -> tuple[str, int]:
    """'le3' → ('le', 3); eq is allowed only on the first or the top level."""
    op, k = key[:2], int(key[2:])
    if op not in ("le", "ge", "eq") or not 1 <= k <= levels:
        raise ValueError(f"bad share key {key!r}")
    if op == "eq" and k not in (1, levels):
        raise ValueError(f"eq share only on level 1 or {levels}: {key!r}")
    return op, k


def cuts_for(n: int, shares: Mapping[str, float], levels: int) -> tuple[dict[int, int], bool]:
    """Cumulative counts F(k) = answers at level ≤ k imposed by the shares; exact flag."""
    cuts: dict[int, int] = {}
    exact = True
    for key, target in shares.items():
        op, k = parse_share(key, levels)
        c, ok = best_count(n, target)
        exact &= ok
        if op == "le" or (op == "eq" and k == 1):
            cut_level, value = k, c
        else:  # ge k, or eq top
            cut_level, value = k - 1, n - c
        if cut_level in cuts and cuts[cut_level] != value:
            raise ValueError(f"conflicting shares {dict(shares)}")
        if cut_level > 0:
            cuts[cut_level] = value
    return cuts, exact


def cuts_consistent(cuts: Mapping[int, int], n: int) -> bool:
    prev = 0
    for k in sorted(cuts):
        if not prev <= cuts[k] <= n:
            return False
        prev = cuts[k]
    return True


def choose_n(
    shares: Mapping[str, float], levels: int, n_range: tuple[int, int], default: int
) -> int:
    """Largest n in range where every quoted share is hit exactly, else the default."""
    for n in range(n_range[1], n_range[0] - 1, -1):
        cuts, exact = cuts_for(n, shares, levels)
        if exact and cuts_consistent(cuts, n):
            return n
    return default


def bell(mu: float, levels: int, sd: float = 1.3) -> list[float]:
    """Discretised normal shape over levels 1..L."""
    return [math.exp(-((k - mu) ** 2) / (2 * sd * sd)) for k in range(1, levels + 1)]


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Split total proportionally to weights (Hamilton); ties → heavier, then lower index."""
    s = sum(weights)
    if total == 0:
        return [0] * len(weights)
    if s <= 0:
        weights = [1.0] * len(weights)
        s = float(len(weights))
    quotas = [total * w / s for w in weights]
    out = [math.floor(q) for q in quotas]
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - out[i]), -weights[i], i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def fill(n: int, shape: Sequence[float], cuts: Mapping[int, int]) -> Counts:
    """Counts over len(shape) levels honouring the cumulative cuts, shape elsewhere."""
    levels = len(shape)
    points = sorted({0: 0, levels: n, **cuts}.items())
    counts: list[int] = []
    for (a, fa), (b, fb) in pairwise(points):
        if fb < fa:
            raise ValueError(f"inconsistent cuts {dict(cuts)} for n={n}")
        counts += largest_remainder(fb - fa, shape[a:b])
    return tuple(counts)


def mean_level(counts: Sequence[int]) -> float:
    n = sum(counts)
    return sum(k * c for k, c in enumerate(counts, 1)) / n if n else float("nan")


def pooled_mean(dists: Sequence[Sequence[int]]) -> float:
    n = sum(sum(d) for d in dists)
    return sum(k * c for d in dists for k, c in enumerate(d, 1)) / n if n else float("nan")


def shift_shape(probs: Sequence[float], delta: float) -> list[float]:
    """Move a share |delta| of every level one step down (delta > 0) or up (delta < 0)."""
    total = sum(probs) or 1.0
    p = [x / total for x in probs]
    d = abs(delta)
    while d > 1e-12:
        step = min(d, 1.0)
        moved = [0.0] * len(p)
        for i, x in enumerate(p):
            j = max(i - 1, 0) if delta > 0 else min(i + 1, len(p) - 1)
            moved[i] += (1 - step) * x
            moved[j] += step * x
        p, d = moved, d - step
    return p


def collapse(counts: Sequence[int], levels: int) -> list[float]:
    """Merge the top levels so a longer scale fits a shorter one (6 → 5: 5+6)."""
    head = list(counts[: levels - 1])
    return [float(c) for c in head] + [float(sum(counts[levels - 1 :]))]


_Key = TypeVar("_Key", bound=Hashable)


def hand_out(scores: Mapping[_Key, float], counts: Sequence[int]) -> dict[_Key, int]:
    """Give the highest levels to the highest scores; sum(counts) == len(scores)."""
    if sum(counts) != len(scores):
        raise ValueError(f"{len(scores)} respondents for {sum(counts)} answers")
    levels = [k for k in range(len(counts), 0, -1) for _ in range(counts[k - 1])]
    ranked = sorted(scores, key=lambda key: (-scores[key], str(key)))
    return dict(zip(ranked, levels, strict=True))
