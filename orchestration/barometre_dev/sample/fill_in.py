"""Turn per-question distributions into per-respondent answers.

Who skips a question is drawn (retardataires skip more, leaders seldom); on
e-Education the collectivities without the competence answer "not concerned".
The answering respondents then receive the question's levels in the order of
latent maturity + theme effect + noise.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from .answers import hand_out
from .plan import QuestionPlan
from .respondents import Respondent

NO_ANSWER = 0
NOT_CONCERNED = -1

_SKIP_WEIGHT = {"leader": 0.4, "peloton": 1.0, "retardataire": 2.0}
# Themes where the sample's retardataires are still fairly advanced (report).
_LAGGARD_STRENGTHS = ("T02", "T05")


def _weighted_pick(rng: random.Random, pool: Sequence[Respondent], k: int) -> list[Respondent]:
    keyed = sorted(pool, key=lambda r: (-(rng.random() ** (1.0 / _SKIP_WEIGHT[r.group])), r.siren))
    return keyed[:k]


def answer_matrix(
    respondents: Sequence[Respondent],
    plans: Mapping[str, QuestionPlan],
    rng: random.Random,
    *,
    nc_theme: str | None,
    strategy_theme: str | None,
    always_concerned: Sequence[str] = (),
    nc_share: float = 0.25,
    noise: float = 0.45,
) -> dict[str, dict[str, int]]:
    """siren → question_code → level (1..L), NO_ANSWER or NOT_CONCERNED."""
    out: dict[str, dict[str, int]] = {r.siren: {} for r in respondents}
    for code, plan in plans.items():
        theme = plan.question.theme_code
        blanks = len(respondents) - plan.n
        if blanks < 0:
            raise ValueError(f"{code}: {plan.n} answers for {len(respondents)} respondents")
        states: dict[str, int] = {}
        if theme == nc_theme:
            nc = [r for r in respondents if r.education_nc]
            others = [r for r in respondents if not r.education_nc]
            if blanks >= len(nc):
                chosen_nc = nc
                skip = _weighted_pick(rng, others, blanks - len(nc))
            else:
                chosen_nc = _weighted_pick(rng, nc, blanks)
                skip = []
            states |= {r.siren: NOT_CONCERNED for r in chosen_nc}
            states |= {r.siren: NO_ANSWER for r in skip}
        else:
            pool = [r for r in respondents if not (theme == strategy_theme and r.group == "leader")]
            for r in _weighted_pick(rng, pool, blanks):
                concerned = theme in always_concerned or rng.random() >= nc_share
                states[r.siren] = NO_ANSWER if concerned else NOT_CONCERNED
        scores: dict[str, float] = {}
        for r in respondents:
            noise_draw = rng.gauss(0, noise)  # drawn for everyone: a stable stream
            if r.siren in states:
                continue
            score = r.latent + r.theme_effect.get(theme, 0.0) + noise_draw
            if r.group == "retardataire" and theme in _LAGGARD_STRENGTHS:
                score += 0.6
            if r.group == "leader" and theme == strategy_theme:
                score += 10.0  # leaders have their strategy at least in implementation
            scores[r.siren] = score
        states |= hand_out(scores, plan.counts)
        for r in respondents:
            out[r.siren][code] = states[r.siren]
    return out


def perturb(
    answers: Mapping[str, int], levels: int, rng: random.Random, share: float = 0.4
) -> dict[str, int]:
    """An earlier, different submission of the same collectivity: some levels ±1."""
    out: dict[str, int] = {}
    changed = False
    for code, value in answers.items():
        if value > 0 and rng.random() < share:
            step = rng.choice((-1, 1))
            new = min(max(value + step, 1), levels)
            new = new if new != value else min(max(value - step, 1), levels)
            changed |= new != value
            out[code] = new
        else:
            out[code] = value
    if not changed:
        raise ValueError("perturbation left the answers unchanged")
    return out
