"""What the 2021 report says about the questions it does not print as a table.

Keyed by question code (2021 codes; 2018 targets by crosswalk question_key), never
by wording: wordings live in seeds/questions.csv only. A share is a percentage of
the respondents who answered the question: "le2": 33 means 33 % at level ≤ 2,
"ge4" at level ≥ 4, "eq1" at level 1, "eq6"/"eq5" at the top level. A target whose
code is absent from the seeds is ignored, so the seeds can evolve freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    """Narrative constraints on one question's distribution."""

    shares: dict[str, float]
    quote: str
    mu: float | None = None  # centre of the shape for levels the shares leave free
    n_range: tuple[int, int] | None = None  # answering respondents allowed
    extra: dict[str, str] = field(default_factory=dict)


# Mean level of each theme's answers in 2021, for themes the report prints no table
# for, chosen so the theme ranking is the report's: top 3 T05, T09, T02; bottom 3
# T04, T01, T10 (T04, T07, T08, T09 follow from the printed tables: ≈2.65, 3.4,
# 3.43, 3.78).
THEME_MEAN_2021: dict[str, float] = {
    "T01": 2.78,
    "T02": 3.62,
    "T03": 3.12,
    "T05": 4.08,
    "T06": 3.08,
    "T10": 2.9,
}

# Responsible-digital "impacts" questions sit at the reflection stage (report, theme
# "Numérique solidaire et responsable": "stade de la réflexion pour la grande majorité",
# "moins de 15 % des répondants n'ont pas entamé de réflexion").
_RESP_MU = 2.2

NARRATIVE_2021: dict[str, Target] = {
    "T01_Q01": Target(
        {"le2": 33, "ge5": 18},
        "33 % … n'ont toujours pas abordé le sujet ou en sont restés au stade de la "
        "réflexion; seul un peu plus de 15 % … mise en œuvre complète et effective",
    ),
    "T01_Q02": Target(
        {"le3": 47}, "moins de 50 % … disent ne pas l'avoir fait (organisation et gouvernance)"
    ),
    "T01_Q03": Target(
        {"ge4": 28, "eq1": 10},
        "innovation mise en œuvre ou en cours pour 28 %; seul 10 % n'ont pas abordé le sujet",
    ),
    "T01_Q04": Target(
        {"ge4": 38}, "la transformation culturelle n'est en cours que pour près de 40 %"
    ),
    "T01_Q05": Target(
        {"le3": 79},
        "l'évaluation de la stratégie numérique reste encore à mettre en place pour près de 80 %",
    ),
    "T01_Q06": Target(
        {"ge4": 30},
        "seuls 30 % … engagés dans une gouvernance numérique avec les acteurs du territoire",
    ),
    "T01_Q07": Target(
        {"ge4": 26, "eq1": 12},
        "moins de 30 % … intègrent les impacts … dans leur stratégie",
        mu=_RESP_MU,
    ),
    "T02_Q02": Target(
        {"ge4": 41},
        "uniquement 4 collectivités sur 10 placent l'expérience de l'utilisateur au cœur",
    ),
    "T02_Q03": Target(
        {"ge4": 68}, "près de 70 % … au minima au stade de la mise en œuvre (multicanal)"
    ),
    "T02_Q07": Target({"ge4": 35}, "à peine plus d'un tiers … relation omnicanale"),
    "T03_Q01": Target(
        {"ge4": 73},
        "73 % … continue de mettre en œuvre une stratégie en matière d'éducation",
        n_range=(24, 27),
    ),
    "T03_Q03": Target(
        {"le3": 59},
        "près de 60 % … n'ont pas mis en place d'espace numérique de travail",
        n_range=(24, 27),
    ),
    "T03_Q04": Target(
        {"le3": 74},
        "74 % … ne procède à aucune évaluation de l'impact du numérique",
        n_range=(24, 27),
    ),
    "T03_Q05": Target(
        {"ge4": 27},
        "seul un peu plus d'un quart … dispositifs d'éducation à distance",
        n_range=(24, 27),
    ),
    "T03_Q06": Target({"eq1": 12}, "impacts: stade de la réflexion", mu=_RESP_MU, n_range=(23, 26)),
    # T05: "près d'1/4 des collectivités en sont déjà au stade de l'amélioration
    # continue" → about a quarter of the theme's answers at level 6 (eq6 below).
    "T05_Q01": Target(
        {"ge4": 59, "eq6": 18}, "à peine 6 collectivités sur 10 … dématérialisation globale"
    ),
    "T05_Q02": Target(
        {"ge4": 85, "eq6": 38},
        "85 % … exploitent totalement les possibilités de travail en mobilité",
    ),
    "T05_Q03": Target(
        {"eq6": 32}, "amélioration de la capacité à opérer au sein d'un environnement collaboratif"
    ),
    "T05_Q04": Target(
        {"eq6": 29}, "les fonctions supports … véritables partenaires de cette progression"
    ),
    "T05_Q05": Target(
        {"eq6": 29}, "le recours aux technologies numériques et aux données est en forte hausse"
    ),
    "T05_Q06": Target(
        {"ge4": 75, "eq6": 28}, "les trois quarts … ont pleinement tiré parti de la crise COVID"
    ),
    "T05_Q07": Target(
        {"ge4": 50, "eq6": 18},
        "opportunité de modifier les pratiques de management … pour la moitié",
    ),
    "T05_Q08": Target({"eq1": 12, "eq6": 3}, "impacts: stade de la réflexion", mu=_RESP_MU),
    "T06_Q01": Target(
        {"ge4": 62, "eq1": 0},
        "plus de 6 collectivités sur 10 … vision d'ensemble; elles l'ont à présent toutes abordé",
    ),
    "T06_Q03": Target(
        {"ge5": 32},
        "près d'un tiers … s'appuyer sur ces standards et contribuent … de manière complète",
    ),
    "T06_Q04": Target({"le3": 50}, "la moitié d'entre elles n'incite pas les autres producteurs"),
    "T06_Q05": Target(
        {"le3": 74}, "près de trois quarts … pas encore mis en place une gouvernance ouverte"
    ),
    "T06_Q06": Target({"ge4": 30}, "seuls 30 % … cas d'usage au service des usagers"),
    "T06_Q07": Target({"ge4": 25}, "uniquement 25 % … cas d'usage qui contribuent à l'efficacité"),
    "T06_Q08": Target({"eq1": 12}, "impacts: stade de la réflexion", mu=_RESP_MU),
    "T10_Q01": Target(
        {"ge4": 29, "le2": 32},
        "plus d'un quart … plan d'inclusion numérique; près d'un tiers … pas encore formalisé",
    ),
    "T10_Q02": Target({"ge4": 59}, "RGAA … par près de 60 % des répondants"),
    "T10_Q04": Target(
        {"ge4": 18, "eq1": 12},
        "seulement un tiers d'entre eux [la moitié qui agit] … impacts",
        mu=_RESP_MU,
    ),
    "T10_Q05": Target(
        {"eq1": 3, "ge4": 53},
        "97 % … au moins engagé des réflexions; actions pour plus de la moitié",
    ),
    "T10_Q06": Target({"ge4": 9}, "très peu de collectivités … compétences … des élus"),
}

# 2018 (5-level scale): shape = the 2021 distribution of the same question with
# levels 5 and 6 merged, moved down by THEME_SHIFT_2018 levels (negative = 2018 was
# higher), then the quoted 2018 figures below are imposed. The shifts follow the
# report's 2018→2021 story: strong progression of administration, data, cyber and
# strategy; stability elsewhere; decline of e-Education. 2018 ranking: top T08, T07,
# T02; T04 lowest, T01 and T06 in the bottom 3.
THEME_SHIFT_2018: dict[str, float] = {
    "T01": 0.1,
    "T02": 0.1,
    "T03": 0.5,
    "T04": 0.45,
    "T05": 0.9,
    "T06": 0.45,
    "T07": -0.1,
    "T08": -0.1,
    "T09": 0.55,
}

NARRATIVE_2018: dict[str, Target] = {
    "T01_Q01": Target(
        {"le2": 42, "eq5": 13},
        "42 % en 2018 [pas abordé ou réflexion]; un peu moins de 15 % [mise en œuvre complète]",
    ),
    "T01_Q02": Target({"le3": 62}, "plus de 60 % en 2018 disent ne pas l'avoir fait"),
    "T01_Q03": Target({"ge4": 14, "eq1": 37}, "14 % en 2018 [mise en œuvre]; 37 % [pas abordé]"),
    "T02_Q02": Target({"ge4": 50}, "5 sur 10 en 2018 [expérience usager au cœur]"),
    "T02_Q03": Target({"ge4": 57}, "moins de 60 % en 2018 [relation multicanale]"),
    "T03_Q01": Target({"ge4": 83}, "83 % en 2018 [stratégie éducation]", n_range=(27, 31)),
    "T03_Q03": Target({"le3": 41}, "près de 40 % en 2018 [pas d'ENT]", n_range=(27, 31)),
    "T03_Q04": Target({"le3": 60}, "60 % en 2018 [aucune évaluation]", n_range=(27, 31)),
    "T05_Q02": Target({"ge4": 51.3}, "vs 51,3 % en 2018 [travail en mobilité]", n_range=(39, 39)),
    "T06_Q01": Target(
        {"eq1": 18}, "en 2018, près de 2 collectivités sur 10 n'avaient pas encore abordé le sujet"
    ),
    "T07_Q03": Target({"ge4": 37}, "passant de 37 % [2018] à 42 % [réseaux sans fil, IoT]"),
}
