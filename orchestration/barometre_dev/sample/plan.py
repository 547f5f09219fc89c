"""Decide every question's distribution (integer counts per level) for one edition.

2021: printed rows → calibrated counts; narrative figures → imposed cumulative
counts; the remaining levels follow a bell whose centre is tuned per theme so that
theme means rank as the report says. 2018: the 2021 distribution of the same
question (crosswalk), merged to 5 levels and shifted by the report's 2018→2021
movement, with the quoted 2018 figures imposed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from .answers import (
    Counts,
    bell,
    choose_n,
    collapse,
    cuts_consistent,
    cuts_for,
    fill,
    pooled_mean,
    shift_shape,
)
from .calibration import Calibration
from .seeds import Edition, Question
from .targets import Target

# How many respondents skip an ordinary question: 0, 1, 2 or 3, with these weights.
_SKIP_WEIGHTS = (0.45, 0.3, 0.15, 0.1)


@dataclass
class QuestionPlan:
    """The distribution chosen for one question."""

    question: Question
    n: int
    counts: Counts
    source: str  # published | narrative | theme
    target: Target | None = None
    calibration: Calibration | None = None

    @property
    def code(self) -> str:
        return self.question.question_code


def draw_skips(rng: random.Random) -> int:
    return rng.choices(range(len(_SKIP_WEIGHTS)), weights=_SKIP_WEIGHTS)[0]


def _cuts(n: int, target: Target | None, levels: int) -> dict[int, int]:
    if target is None:
        return {}
    cuts, _exact = cuts_for(n, target.shares, levels)
    if not cuts_consistent(cuts, n):
        raise ValueError(f"inconsistent narrative shares {target.shares} for n={n}")
    return cuts


def plan_edition_from_bell(
    edition: Edition,
    respondents: int,
    rng: random.Random,
    calibrations: Mapping[tuple[str, int], Calibration],
    narrative: Mapping[str, Target],
    theme_means: Mapping[str, float],
    nc_theme: str | None,
    nc_count: int,
) -> dict[str, QuestionPlan]:
    """Plan a fresh edition (2021 in the sample): published, narrative, then theme shape."""
    levels = edition.scale_size
    plans: dict[str, QuestionPlan] = {}
    pending: list[tuple[Question, int, Target | None]] = []
    for q in edition.questions:
        skips = draw_skips(rng)  # drawn for every question: a stable random stream
        cal = calibrations.get((q.theme_code, q.order_in_theme))
        base = respondents - (nc_count if q.theme_code == nc_theme else 0)
        if cal is not None and len(cal.counts) == levels:
            plans[q.question_code] = QuestionPlan(
                q, cal.n, cal.counts, "published", calibration=cal
            )
            continue
        target = narrative.get(q.question_code)
        n = base - (min(skips, 1) if q.theme_code == nc_theme else skips)
        if target is not None:
            n_range = target.n_range or (base - 5, base)
            n = choose_n(target.shares, levels, n_range, n)
        pending.append((q, n, target))

    for theme in edition.themes:
        mine = [(q, n, t, _cuts(n, t, levels)) for q, n, t in pending if q.theme_code == theme]
        if not mine:
            continue
        fixed = [p.counts for p in plans.values() if p.question.theme_code == theme]
        goal = theme_means.get(theme, pooled_mean(fixed) if fixed else (levels + 1) / 2)

        def build(mu: float, mine: list = mine) -> list[QuestionPlan]:
            out = []
            for q, n, t, cuts in mine:
                shape = bell(t.mu if t and t.mu is not None else mu, levels)
                counts = fill(n, shape, cuts)
                out.append(QuestionPlan(q, n, counts, "narrative" if t else "theme", target=t))
            return out

        grid = [0.5 + 0.02 * i for i in range(int((levels + 1.5) / 0.02))]
        best_mu = min(
            grid,
            key=lambda mu: (abs(pooled_mean(fixed + [p.counts for p in build(mu)]) - goal), mu),
        )
        for p in build(best_mu):
            plans[p.code] = p
    return {q.question_code: plans[q.question_code] for q in edition.questions}


def plan_edition_from_other(
    edition: Edition,
    respondents: int,
    rng: random.Random,
    other: Mapping[str, QuestionPlan],
    key_of: Mapping[tuple[str, str], str],
    narrative: Mapping[str, Target],
    theme_shift: Mapping[str, float],
    nc_theme: str | None,
    nc_count: int,
) -> dict[str, QuestionPlan]:
    """Plan an earlier edition (2018 in the sample) from the later one's distributions."""
    levels = edition.scale_size
    other_by_key = {
        key_of.get((p.question.edition_code, code), code): p for code, p in other.items()
    }
    plans: dict[str, QuestionPlan] = {}
    for q in edition.questions:
        skips = draw_skips(rng)
        key = key_of.get((edition.code, q.question_code), q.question_code)
        base = respondents - (nc_count if q.theme_code == nc_theme else 0)
        n = base - (min(skips, 1) if q.theme_code == nc_theme else skips)
        target = narrative.get(key)
        if target is not None:
            n = choose_n(target.shares, levels, target.n_range or (base - 5, base), n)
        later = other_by_key.get(key)
        if later is not None:
            shape = collapse(later.counts, levels)
        else:
            shape = bell((levels + 1) / 2, levels)
        shape = shift_shape(shape, theme_shift.get(q.theme_code, 0.0))
        counts = fill(n, shape, _cuts(n, target, levels))
        plans[q.question_code] = QuestionPlan(
            q, n, counts, "narrative" if target else "crosswalk", target=target
        )
    return plans
