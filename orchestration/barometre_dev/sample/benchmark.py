"""Benchmark-size synthetic data: a full seed set and many large editions.

Measures the pipeline at volumes the real barometer never reaches (thousands of
respondents, hundreds of questions, several editions) with the same file formats
and manifests as the bundled sample. Nothing here is calibrated; everything is
fabricated, including the collectivities (SIRENs starting with 9).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .writers import (
    LIMESURVEY_COLUMNS,
    SURVEYMONKEY_COLUMNS,
    limesurvey_manifest,
    surveymonkey_manifest,
    write_limesurvey_csv,
    write_surveymonkey_xlsx,
)

DEFAULT_RESPONDENTS = 5000
DEFAULT_QUESTIONS_PER_THEME = 20
DEFAULT_EDITIONS = 4
DEFAULT_SEED = 1
"""The one set of defaults of benchmark data (`python -m barometre_dev.sample --benchmark`)."""

THEMES = 10
STAGES = (
    "NON_ABORDE",
    "REFLEXION",
    "ORIENTATIONS",
    "MEO_EN_COURS",
    "MEO_COMPLETE",
    "AMELIORATION_CONTINUE",
)
TYPES = (  # type_code, label, report_group, report_group_label, share of collectivities
    ("METRO", "Métropole", "METROPOLES", "Métropoles", 0.10),
    ("MET69", "Métropole de Lyon", "METROPOLES", "Métropoles", 0.0),
    ("CU", "Communauté urbaine", "AGGLOS_CU", "Agglomérations et communautés urbaines", 0.08),
    (
        "CA",
        "Communauté d'agglomération",
        "AGGLOS_CU",
        "Agglomérations et communautés urbaines",
        0.30,
    ),
    ("CC", "Communauté de communes", "AGGLOS_CU", "Agglomérations et communautés urbaines", 0.12),
    ("COM", "Commune", "VILLES", "Villes", 0.40),
)
TRANSVERSE = (
    ("RESP", "Numérique solidaire et responsable (synthétique)"),
    ("CRISE", "Gestion de crise et résilience (synthétique)"),
    ("COOP", "Coopération territoriale (synthétique)"),
)
REGIONS = (
    ("11", "Île-de-France"),
    ("32", "Hauts-de-France"),
    ("44", "Grand Est"),
    ("52", "Pays de la Loire"),
    ("53", "Bretagne"),
    ("75", "Nouvelle-Aquitaine"),
    ("76", "Occitanie"),
    ("84", "Auvergne-Rhône-Alpes"),
    ("93", "Provence-Alpes-Côte d'Azur"),
)
LS_TIME = "%Y-%m-%d %H:%M:%S"
SM_TIME = "%m/%d/%Y %I:%M:%S %p"
NC_LABEL = "Non concerné"


def _write_seed(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Seeds convention: UTF-8 without BOM, ',', LF, fields quoted only where needed."""
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            w.writerow(row)
            n += 1
    return n


def _editions(count: int) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        year = 2101 + i
        out.append(
            {
                "code": str(year),
                "year": year,
                "number": i + 1,
                "scale": 5 if i == 0 else 6,
                "layout": "limesurvey_csv" if i % 2 == 0 else "surveymonkey_xlsx",
            }
        )
    return out


def _collectivities(rng: random.Random, count: int) -> list[dict[str, Any]]:
    types = [t for t in TYPES if t[4] > 0]
    out = []
    for i in range(count):
        t = rng.choices(types, weights=[x[4] for x in types])[0]
        region = rng.choice(REGIONS)
        pop = int(rng.lognormvariate(11.5 if t[0] != "COM" else 10.5, 0.8))
        out.append(
            {
                "siren": f"9{i:08d}",
                # unique (a seed test): 9xxxx for the first 10,000, then 5 hex digits
                # (never starting with 9 below 589,824 collectivities)
                "insee_code": (f"9{i:04d}" if i < 10_000 else f"{i:05X}") if t[0] == "COM" else "",
                "name": f"{t[1]} synthétique {i:06d}",
                "type_code": t[0],
                "population": pop,
                "population_year": 2023,
                "region_code": region[0],
                "region_name": region[1],
            }
        )
    return out


def _write_seeds(
    seeds: Path,
    rng: random.Random,
    editions: Sequence[dict[str, Any]],
    questions_per_theme: int,
    colls: Sequence[dict[str, Any]],
    aliases: Sequence[tuple[str, str, str, str]],
) -> dict[str, int]:
    seeds.mkdir(parents=True, exist_ok=True)
    themes = [f"T{t:02d}" for t in range(1, THEMES + 1)]
    sizes = {
        "editions.csv": _write_seed(
            seeds / "editions.csv",
            [
                "edition_code",
                "edition_year",
                "edition_number",
                "field_start",
                "field_end",
                "scale_size",
                "theme_count",
                "label_fr",
            ],
            (
                [
                    e["code"],
                    e["year"],
                    e["number"],
                    f"{e['year']}-01-04",
                    f"{e['year']}-03-31",
                    e["scale"],
                    THEMES,
                    f"Édition synthétique {e['code']} (benchmark)",
                ]
                for e in editions
            ),
        ),
        "stages.csv": _write_seed(
            seeds / "stages.csv",
            ["stage_code", "stage_order", "label_fr"],
            ([s, i, f"Stade synthétique {i}"] for i, s in enumerate(STAGES, 1)),
        ),
        "scale_levels.csv": _write_seed(
            seeds / "scale_levels.csv",
            ["edition_code", "level", "label_fr", "stage_code"],
            (
                [e["code"], k, f"Niveau synthétique {k}", STAGES[k - 1]]
                for e in editions
                for k in range(1, e["scale"] + 1)
            ),
        ),
        "themes.csv": _write_seed(
            seeds / "themes.csv",
            ["edition_code", "theme_code", "theme_number", "label_fr", "description_fr"],
            (
                [
                    e["code"],
                    t,
                    int(t[1:]),
                    f"Thème synthétique {t}",
                    f"Ce que mesure le thème synthétique {t}.",
                ]
                for e in editions
                for t in themes
            ),
        ),
        "questions.csv": _write_seed(
            seeds / "questions.csv",
            [
                "edition_code",
                "question_code",
                "theme_code",
                "order_in_theme",
                "wording_fr",
                "wording_status",
                "source_note",
            ],
            (
                [
                    e["code"],
                    f"{t}_Q{o:02d}",
                    t,
                    o,
                    _wording(t, o),
                    "reconstructed",
                    "synthetic benchmark question",
                ]
                for e in editions
                for t in themes
                for o in range(1, questions_per_theme + 1)
            ),
        ),
        "question_crosswalk.csv": _write_seed(
            seeds / "question_crosswalk.csv",
            ["question_key", "edition_code", "question_code"],
            (
                [f"{t}_Q{o:02d}", e["code"], f"{t}_Q{o:02d}"]
                for t in themes
                for o in range(1, questions_per_theme + 1)
                for e in editions
            ),
        ),
        "transverse_themes.csv": _write_seed(
            seeds / "transverse_themes.csv",
            ["transverse_code", "label_fr", "description_fr", "first_edition_code"],
            (
                [c, label, f"Thème transverse synthétique {c}.", editions[0]["code"]]
                for c, label in TRANSVERSE
            ),
        ),
        "question_transverse_themes.csv": _write_seed(
            seeds / "question_transverse_themes.csv",
            ["edition_code", "question_code", "transverse_code"],
            (
                [e["code"], f"{t}_Q{o:02d}", TRANSVERSE[(int(t[1:]) + o) % 3][0]]
                for e in editions
                for t in themes
                for o in range(1, questions_per_theme + 1)
                if (int(t[1:]) + o) % 4 == 0  # about one question in four is tagged
            ),
        ),
        "collectivity_types.csv": _write_seed(
            seeds / "collectivity_types.csv",
            [
                "type_code",
                "label_fr",
                "report_group",
                "report_group_label_fr",
                "first_edition_number",
            ],
            ((*t[:4], 1) for t in TYPES),
        ),
        "collectivities.csv": _write_seed(
            seeds / "collectivities.csv",
            [
                "siren",
                "insee_code",
                "name",
                "type_code",
                "population",
                "population_year",
                "region_code",
                "region_name",
            ],
            (
                [
                    c["siren"],
                    c["insee_code"],
                    c["name"],
                    c["type_code"],
                    c["population"],
                    c["population_year"],
                    c["region_code"],
                    c["region_name"],
                ]
                for c in colls
            ),
        ),
        "collectivity_aliases.csv": _write_seed(
            seeds / "collectivity_aliases.csv", ["alias", "siren", "type_code", "note"], aliases
        ),
    }
    return sizes


def _wording(theme: str, order: int) -> str:
    return (
        f"Affirmation synthétique {theme}-{order:02d} : nous avons mis en place "
        f"le dispositif numéro {order} du thème {theme}."
    )


def _level(rng: random.Random, latent: float, scale: int) -> int:
    x = (scale + 1) / 2 + latent + rng.gauss(0, 0.9)
    return min(max(round(x), 1), scale)


def _answers(rng: random.Random, latent: float, scale: int, count: int) -> list[int]:
    """Levels, 0 = no answer, -1 = not concerned (about 3 % each)."""
    out = []
    for _ in range(count):
        u = rng.random()
        out.append(0 if u < 0.03 else -1 if u < 0.05 else _level(rng, latent, scale))
    return out


def _moment(rng: random.Random, year: int) -> dt.datetime:
    start = dt.datetime(year, 1, 4, 8)
    return start + dt.timedelta(days=rng.randrange(85), seconds=rng.randrange(10 * 3600))


def _write_edition(
    raw: Path,
    rng: random.Random,
    edition: dict[str, Any],
    panel: Sequence[dict[str, Any]],
    alias_of: dict[str, tuple[str, str]],
    questions_per_theme: int,
    extra_pool: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    themes = [f"T{t:02d}" for t in range(1, THEMES + 1)]
    qs = [(t, o) for t in themes for o in range(1, questions_per_theme + 1)]
    scale = edition["scale"]
    subs: list[tuple[dt.datetime, dt.datetime | None, dict[str, Any], list[int]]] = []
    for c in panel:
        latent = rng.gauss(0, 0.8)
        start = _moment(rng, edition["year"])
        subs.append(
            (
                start,
                start + dt.timedelta(minutes=rng.randint(15, 150)),
                c,
                _answers(rng, latent, scale, len(qs)),
            )
        )
    dups = max(1, len(panel) // 100)
    for c in rng.sample(list(panel), dups):  # earlier complete submissions
        start = _moment(rng, edition["year"]) - dt.timedelta(days=3)
        subs.append(
            (start, start + dt.timedelta(minutes=40), c, _answers(rng, 0.0, scale, len(qs)))
        )
    for c in rng.sample(list(extra_pool), min(dups, len(extra_pool))):  # incomplete responses
        start = _moment(rng, edition["year"])
        partial = _answers(rng, 0.0, scale, len(qs))
        subs.append(
            (start, None, c, [v if i < questions_per_theme else 0 for i, v in enumerate(partial)])
        )
    subs.sort(key=lambda s: (s[0], s[2]["siren"]))
    folder = raw / edition["code"]
    folder.mkdir(parents=True, exist_ok=True)
    if edition["layout"] == "limesurvey_csv":
        name = f"benchmark_{edition['code']}_limesurvey.csv"
        header = list(LIMESURVEY_COLUMNS)
        header += [f"{t}[SQ{o:03d}]" for t, o in qs]
        rows = []
        for i, (start, end, c, ans) in enumerate(subs, 1):
            last = end or start + dt.timedelta(minutes=5)
            rows.append(
                [
                    str(i),
                    end.strftime(LS_TIME) if end else "",
                    str(THEMES + 1 if end else 2),
                    "fr",
                    start.strftime(LS_TIME),
                    last.strftime(LS_TIME),
                    f"192.0.2.{i % 254 + 1}",
                    f"tok{i:012d}",
                    c["name"],
                    c["type_code"],
                    f"contact{i}@example.org",
                ]
                + ["" if v == 0 else "NC" if v < 0 else f"A{v}" for v in ans]
            )
        write_limesurvey_csv(folder / name, header, rows)
        manifest = limesurvey_manifest(
            edition=edition["code"],
            files=[name],
            timestamp_format=LS_TIME,
            codes={f"A{k}": k for k in range(1, scale + 1)},
            comment="SYNTHETIC benchmark edition (everything fabricated).",
        )
    else:
        name = f"benchmark_{edition['code']}_surveymonkey.xlsx"
        meta = list(SURVEYMONKEY_COLUMNS)
        row1 = meta + [_wording(t, o) for t, o in qs]
        row2 = [""] * len(meta) + ["Response"] * len(qs)
        labels = {k: f"Niveau synthétique {k}" for k in range(1, scale + 1)}

        def rows_iter() -> Iterable[list[Any]]:
            for i, (start, end, c, ans) in enumerate(subs, 1):
                shown = alias_of.get(c["siren"], (c["name"], ""))[0]
                yield (
                    [
                        9_000_000_000 + i,
                        400_000_000 + i % 3,
                        start.strftime(SM_TIME),
                        end.strftime(SM_TIME) if end else "",
                        f"198.51.100.{i % 254 + 1}",
                        f"contact{i}@example.org",
                        "Prénom",
                        f"Nom{i}",
                        shown,
                    ]
                    + ["" if v == 0 else NC_LABEL if v < 0 else labels[v] for v in ans]
                )

        write_surveymonkey_xlsx(folder / name, row1, row2, rows_iter(), write_only=True)
        manifest = surveymonkey_manifest(
            edition=edition["code"],
            files=[name],
            timestamp_format=SM_TIME,
            not_concerned=NC_LABEL,
            comment="SYNTHETIC benchmark edition (everything fabricated).",
        )
    (folder / "manifest.yml").write_text(manifest, encoding="utf-8", newline="\n")
    path = folder / name
    return {
        "edition": edition["code"],
        "layout": edition["layout"],
        "file": str(path),
        "data_rows": len(subs),
        "respondents": len(panel),
        "questions": len(qs),
        "bytes": path.stat().st_size,
    }


def generate_benchmark(
    out_dir: Path, respondents: int, questions_per_theme: int, editions: int, seed: int
) -> dict:
    """Write out_dir/seeds/*.csv and out_dir/raw/<edition>/ (alternating layouts); return sizes."""
    if not 1 <= questions_per_theme <= 99:
        raise ValueError("questions_per_theme must be within 1..99 (question codes have 2 digits)")
    if respondents < 1 or editions < 1:
        raise ValueError("respondents and editions must be positive")
    began = time.perf_counter()
    out_dir = Path(out_dir)
    rng = random.Random(seed)
    eds = _editions(editions)
    colls = _collectivities(rng, int(respondents * 1.25) + 10)
    # Former names for 5 % of collectivities, used by the SurveyMonkey editions.
    aliases: list[tuple[str, str, str, str]] = []
    alias_of: dict[str, tuple[str, str]] = {}
    for c in rng.sample(colls, max(1, len(colls) // 20)):
        former_type = "CA" if c["type_code"] == "CU" else ""
        alias = f"Ancien nom {c['siren']}"
        aliases.append((alias, c["siren"], former_type, "synthetic former name"))
        alias_of[c["siren"]] = (alias, former_type)
    seed_sizes = _write_seeds(out_dir / "seeds", rng, eds, questions_per_theme, colls, aliases)
    files = []
    for e in eds:
        order = sorted(colls, key=lambda c: (rng.random(), c["siren"]))
        panel, extra = order[:respondents], order[respondents:]
        files.append(
            _write_edition(out_dir / "raw", rng, e, panel, alias_of, questions_per_theme, extra)
        )
    return {
        "out_dir": str(out_dir),
        "seed": seed,
        "seeds": seed_sizes,
        "editions": files,
        "seconds": round(time.perf_counter() - began, 3),
    }
