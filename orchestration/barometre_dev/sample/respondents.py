"""Who answers the synthetic sample: real collectivities, fabricated maturity.

Panels are drawn from seeds/collectivities.csv (the official reference), so every
name in the bundled exports resolves to a real SIREN. Each respondent gets a latent
maturity drawn from the report's three groups (leaders 15 %, peloton 60 %,
retardataires 25 %); answers are later handed out by that latent, which is what
makes a respondent's answers correlated across questions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from barometre.ingest.reference import seed_rows

# Collectivities whose good practice the 2021 report tells (testimonials): always in
# the 2021 panel, and leaning towards the leaders. SIRENs, not names: names are read
# from seeds/collectivities.csv.
TESTIMONIAL_SIRENS: tuple[str, ...] = (
    "200046977",  # Métropole de Lyon (MET69): digital inclusion
    "244400404",  # Nantes Métropole: data charter
    "244200770",  # Saint-Étienne Métropole: MaaS
    "200030195",  # Métropole Nice Côte d'Azur: vaccination platform
    "213001894",  # Nîmes (ville): connected city
)
# Also always in the 2021 panel: the brief's examples and the collectivities the 2018
# export names differently (see ALIASES_2018).
REPORT_CITED_SIRENS: tuple[str, ...] = (
    *TESTIMONIAL_SIRENS,
    "243300316",  # Bordeaux Métropole
    "243700754",  # Tours Métropole Val de Loire
    "200093201",  # Métropole Européenne de Lille (2018 export writes "MEL")
    "242500361",  # CU Grand Besançon Métropole: a CA in 2018, CU since 2019-07-01
)

# Names the 2018 export uses instead of the reference name, with the type the
# collectivity had then ("" = unchanged). Each must resolve through
# seeds/collectivity_aliases.csv; generation stops otherwise.
ALIASES_2018: dict[str, tuple[str, str]] = {
    "200046977": ("Grand Lyon", ""),
    "200093201": ("MEL", ""),
    "244200770": ("Saint-Etienne Métropole", ""),
    "200030195": ("Nice Côte d'Azur", ""),
    "242500361": ("Communauté d'agglomération du Grand Besançon", "CA"),
    "213001894": ("Ville de Nîmes", ""),
}

# Report groups of the 2021 panel: (type codes, number of respondents, pool rule).
PANEL_2021: tuple[tuple[str, tuple[str, ...], int, int], ...] = (
    ("METROPOLES", ("METRO", "MET69"), 12, 0),
    ("AGGLOS_CU", ("CU", "CA"), 10, 150_000),
    ("VILLES", ("COM",), 12, 100_000),
)

GROUP_SHARES = (("leader", 0.15), ("peloton", 0.60), ("retardataire", 0.25))
GROUP_LATENT = {"leader": 1.35, "peloton": 0.0, "retardataire": -1.2}


@dataclass(frozen=True)
class Collectivity:
    """One row of seeds/collectivities.csv."""

    siren: str
    name: str
    type_code: str
    population: int
    region_name: str


@dataclass
class Respondent:
    """A collectivity with its fabricated maturity profile."""

    collectivity: Collectivity
    group: str
    latent: float
    theme_effect: dict[str, float] = field(default_factory=dict)
    specialties: tuple[str, ...] = ()
    education_nc: bool = False  # "not concerned" by e-Education (no school competence)

    @property
    def siren(self) -> str:
        return self.collectivity.siren


def load_collectivities(seeds_dir: Path) -> list[Collectivity]:
    """The official reference, in file order."""
    return [
        Collectivity(
            r["siren"], r["name"], r["type_code"], int(r["population"] or 0), r["region_name"]
        )
        for r in seed_rows(seeds_dir, "collectivities.csv")
    ]


def load_aliases(seeds_dir: Path) -> dict[str, tuple[str, str]]:
    """alias → (siren, type_code) from seeds/collectivity_aliases.csv."""
    if not (seeds_dir / "collectivity_aliases.csv").exists():
        return {}
    rows = seed_rows(seeds_dir, "collectivity_aliases.csv")
    return {r["alias"]: (r["siren"], r["type_code"]) for r in rows}


def weighted_sample(
    rng: random.Random,
    items: Sequence[Collectivity],
    k: int,
    weight: Callable[[Collectivity], float] = lambda c: math.sqrt(max(c.population, 1)),
) -> list[Collectivity]:
    """k items without replacement, probability ∝ weight (Efraimidis–Spirakis keys)."""
    keyed = sorted(items, key=lambda c: (-(rng.random() ** (1.0 / weight(c))), c.siren))
    return keyed[:k]


def unambiguous(colls: Sequence[Collectivity]) -> list[Collectivity]:
    """Collectivities whose name is unique in the reference (e.g. not "Saint-Denis"):
    an export names a collectivity, and a shared name would not resolve to one SIREN."""
    seen: dict[str, int] = {}
    for c in colls:
        seen[c.name] = seen.get(c.name, 0) + 1
    return [c for c in colls if seen[c.name] == 1]


def pick_panel_2021(
    colls: Sequence[Collectivity],
    rng: random.Random,
    mandatory: Iterable[str] = REPORT_CITED_SIRENS,
) -> list[Collectivity]:
    """12 métropoles, 10 agglomérations/CU, 12 villes: the cited ones plus a
    population-weighted draw among the large collectivities of each group."""
    by_siren = {c.siren: c for c in colls}
    must = [by_siren[s] for s in mandatory if s in by_siren]
    panel: list[Collectivity] = []
    for _group, types, size, min_pop in PANEL_2021:
        chosen = [c for c in must if c.type_code in types]
        pool = [
            c
            for c in unambiguous(colls)
            if c.type_code in types and c.population >= min_pop and c not in chosen
        ]
        pool.sort(key=lambda c: (-c.population, c.siren))
        chosen += weighted_sample(rng, pool, size - len(chosen))
        panel += sorted(chosen, key=lambda c: (-c.population, c.siren))
    return panel


def pick_others(
    colls: Sequence[Collectivity],
    exclude: set[str],
    rng: random.Random,
    quotas: dict[tuple[str, ...], int],
) -> list[Collectivity]:
    """Other large collectivities (for the 2018-only respondents, the incomplete response)."""
    out: list[Collectivity] = []
    for types, k in quotas.items():
        min_pop = next(p for _g, t, _n, p in PANEL_2021 if set(types) <= set(t))
        pool = [
            c
            for c in unambiguous(colls)
            if c.type_code in types and c.population >= min_pop and c.siren not in exclude
        ]
        pool.sort(key=lambda c: (-c.population, c.siren))
        picked = weighted_sample(rng, pool, k)
        exclude |= {c.siren for c in picked}
        out += picked
    return out


def assign_profiles(
    panel: Sequence[Collectivity],
    rng: random.Random,
    themes: Sequence[str],
    education_theme: str | None,
    education_nc_count: int,
) -> list[Respondent]:
    """Draw each respondent's group and latent maturity.

    Group sizes follow the report's shares exactly (rounded); larger collectivities
    lean towards the leaders. Peloton members get one or two specialty themes
    (the report's "spécialistes"), every respondent a small per-theme effect.
    """
    n = len(panel)
    sizes = [round(share * n) for _g, share in GROUP_SHARES]
    sizes[1] = n - sizes[0] - sizes[2]
    propensity = {
        c.siren: 0.35 * math.log10(max(c.population, 10))
        + rng.gauss(0, 0.6)
        + (1.0 if c.siren in TESTIMONIAL_SIRENS else 0.0)
        for c in panel
    }
    ranked = sorted(panel, key=lambda c: (-propensity[c.siren], c.siren))
    group_of: dict[str, str] = {}
    start = 0
    for (group, _share), size in zip(GROUP_SHARES, sizes, strict=True):
        for c in ranked[start : start + size]:
            group_of[c.siren] = group
        start += size
    respondents = []
    for c in panel:
        group = group_of[c.siren]
        latent = GROUP_LATENT[group] + rng.gauss(0, 0.3)
        effect = {t: rng.gauss(0, 0.3) for t in themes}
        specialties: tuple[str, ...] = ()
        if group == "peloton" and rng.random() < 0.5:
            specialties = tuple(sorted(rng.sample(list(themes), rng.choice((1, 2)))))
            for t in specialties:
                effect[t] += 1.0
        respondents.append(Respondent(c, group, latent, effect, specialties))
    if education_theme and education_nc_count:
        # e-Education is mostly a commune competence: the NC ones are intercommunalities.
        epci = [r for r in respondents if r.collectivity.type_code != "COM" and r.group != "leader"]
        for r in sorted(epci, key=lambda r: (rng.random(), r.siren))[:education_nc_count]:
            r.education_nc = True
    return respondents
