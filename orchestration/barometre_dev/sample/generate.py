"""Write the bundled SYNTHETIC sample: data/raw/2021 (LimeSurvey) and data/raw/2018 (SurveyMonkey).

The answers are fabricated; the collectivities are real (seeds/collectivities.csv).
The 2021 answers reproduce, after the duplicate rule and without the incomplete
response, every distribution the report prints (closest achievable counts for the
misprinted rows). One seed, one output: every file is byte-identical across runs.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from barometre.ingest.reference import seed_rows

from .answers import mean_level, rounded_pct
from .calibration import calibrate_published
from .fill_in import NO_ANSWER, NOT_CONCERNED, answer_matrix, perturb
from .plan import QuestionPlan, plan_edition_from_bell, plan_edition_from_other
from .respondents import (
    ALIASES_2018,
    GROUP_LATENT,
    GROUP_SHARES,
    Collectivity,
    Respondent,
    assign_profiles,
    load_aliases,
    load_collectivities,
    pick_others,
    pick_panel_2021,
)
from .seeds import Edition, load_crosswalk, load_editions
from .targets import NARRATIVE_2018, NARRATIVE_2021, THEME_MEAN_2021, THEME_SHIFT_2018
from .writers import (
    LIMESURVEY_COLUMNS,
    SURVEYMONKEY_COLUMNS,
    limesurvey_manifest,
    surveymonkey_manifest,
    write_limesurvey_csv,
    write_surveymonkey_xlsx,
)

SAMPLE_SEED = 20210131
EDITION_NEW, EDITION_OLD = "2021", "2018"
WRITTEN_BY = (
    "SYNTHETIC sample export (answers fabricated), written by `python -m barometre_dev.sample`."
)
CSV_NAME = "barometre_2021_limesurvey.csv"
XLSX_NAME = "barometre_2018_surveymonkey.xlsx"
EDUCATION_THEME = "T03"  # e-Education: not every collectivity's competence
STRATEGY_THEME = "T01"  # leaders: strategy at least "implementation in progress"
ALWAYS_CONCERNED = ("T01", "T05")  # strategy and internal administration concern everyone
NC_2021, NC_2018 = 7, 8  # respondents "not concerned" by e-Education
CONTINUING_2018 = 28  # 2021 respondents that also answered in 2018
RESPONDENTS_2018 = 39
OTHERS_2018 = {("METRO",): 2, ("CU", "CA"): 5, ("COM",): 4}
LS_TIME = "%Y-%m-%d %H:%M:%S"
SM_TIME = "%m/%d/%Y %I:%M:%S %p"
NOT_CONCERNED_LABEL = "Non concerné"
FIRST_NAMES = (
    "Camille",
    "Claire",
    "Julien",
    "Nicolas",
    "Sophie",
    "Thomas",
    "Isabelle",
    "Pierre",
    "Nathalie",
    "Laurent",
    "Céline",
    "Olivier",
    "Sandrine",
    "Mathieu",
    "Émilie",
    "Antoine",
)
LAST_NAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Durand",
    "Lefèvre",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Garnier",
    "Rousseau",
    "Fontaine",
    "Chevalier",
    "Robin",
    "Masson",
    "Perrin",
)


def _ascii(text: str) -> str:
    table = str.maketrans("éèêëàâîïôöùûüçÉÈ", "eeeeaaiioouuucEE")
    return text.translate(table).lower().replace(" ", "-")


def _when(rng: random.Random, start: dt.date, end: dt.date) -> dt.datetime:
    """A working-hours moment between two dates (weekdays only)."""
    while True:
        day = start + dt.timedelta(days=rng.randrange((end - start).days + 1))
        if day.weekday() < 5:
            break
    return dt.datetime.combine(day, dt.time(8)) + dt.timedelta(seconds=rng.randrange(10 * 3600))


def _duration(rng: random.Random) -> dt.timedelta:
    if rng.random() < 0.12:  # saved and resumed a few days later
        return dt.timedelta(days=rng.randint(1, 6), seconds=rng.randrange(3600))
    return dt.timedelta(seconds=rng.randint(20 * 60, 140 * 60))


def _ip(rng: random.Random) -> str:
    return rng.choice(("192.0.2.", "198.51.100.")) + str(rng.randint(1, 254))


def _person(rng: random.Random) -> tuple[str, str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return first, last, f"{_ascii(first)}.{_ascii(last)}@example.org"


def _token(rng: random.Random, length: int = 15) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(length))


# --------------------------------------------------------------------------- 2021


def _ls_answer(value: int) -> str:
    if value == NO_ANSWER:
        return ""
    if value == NOT_CONCERNED:
        return "NC"
    return f"A{value}"


def _ls_column(code_theme: str, order: int) -> str:
    return f"{code_theme}[SQ{order:03d}]"


def _write_2021(
    out_dir: Path,
    edition: Edition,
    respondents: Sequence[Respondent],
    matrix: Mapping[str, Mapping[str, int]],
    duplicate: Respondent,
    incomplete: Collectivity,
    rng: random.Random,
) -> dict[str, Any]:
    codes = [q.question_code for q in edition.questions]
    start, end = (
        dt.date.fromisoformat(edition.field_start),
        dt.date.fromisoformat(edition.field_end),
    )
    start = max(start, dt.date(start.year, start.month, 2))
    subs: list[dict[str, Any]] = []
    for r in respondents:
        began = _when(
            rng,
            start + dt.timedelta(days=21) if r is duplicate else start,
            end - dt.timedelta(days=3),
        )
        subs.append(
            {
                "coll": r.collectivity,
                "start": began,
                "submit": began + _duration(rng),
                "answers": matrix[r.siren],
                "kind": "final",
            }
        )
    final_dup = next(s for s in subs if s["coll"] is duplicate.collectivity)
    early = final_dup["start"] - dt.timedelta(
        days=rng.randint(9, 20), seconds=rng.randrange(3 * 3600)
    )
    subs.append(
        {
            "coll": duplicate.collectivity,
            "start": early,
            "submit": early + _duration(rng),
            "answers": perturb(matrix[duplicate.siren], edition.scale_size, rng),
            "kind": "earlier",
        }
    )
    first_themes = edition.themes[:2]
    partial = {}
    for q in edition.questions:
        partial[q.question_code] = rng.randint(1, 4) if q.theme_code in first_themes else NO_ANSWER
    began = _when(rng, start, end)
    subs.append(
        {
            "coll": incomplete,
            "start": began,
            "submit": None,
            "last": began + dt.timedelta(seconds=rng.randint(600, 1800)),
            "answers": partial,
            "kind": "incomplete",
        }
    )
    subs.sort(key=lambda s: s["start"])
    header = list(LIMESURVEY_COLUMNS)
    header += [_ls_column(q.theme_code, q.order_in_theme) for q in edition.questions]
    pages = len(edition.themes) + 1
    rows = []
    for i, s in enumerate(subs, 1):
        s["id"] = i
        done = s["submit"] is not None
        stamp = s["submit"] if done else s["last"]
        _f, _l, mail = _person(rng)
        rows.append(
            [
                str(i),
                s["submit"].strftime(LS_TIME) if done else "",
                str(pages if done else 1 + len(first_themes)),
                "fr",
                s["start"].strftime(LS_TIME),
                stamp.strftime(LS_TIME),
                _ip(rng),
                _token(rng),
                s["coll"].name,
                s["coll"].type_code,
                mail,
            ]
            + [_ls_answer(s["answers"][c]) for c in codes]
        )
    write_limesurvey_csv(out_dir / CSV_NAME, header, rows)
    levels = {f"A{k}": k for k in range(1, edition.scale_size + 1)}
    (out_dir / "manifest.yml").write_text(
        limesurvey_manifest(
            edition=edition.code,
            files=[CSV_NAME],
            timestamp_format=LS_TIME,
            codes=levels,
            comment=f"{WRITTEN_BY}\nLayout of a LimeSurvey 'Export responses' CSV: see NOTE.md.",
        ),
        encoding="utf-8",
        newline="\n",
    )
    by_kind = {s["kind"]: s for s in subs if s["kind"] != "final"}
    return {
        "file": CSV_NAME,
        "data_rows": len(rows),
        "respondents": len(respondents),
        "duplicate": {
            "collectivity": duplicate.collectivity.name,
            "siren": duplicate.siren,
            "earlier_id": by_kind["earlier"]["id"],
            "kept_id": final_dup["id"],
        },
        "incomplete": {
            "collectivity": incomplete.name,
            "siren": incomplete.siren,
            "id": by_kind["incomplete"]["id"],
        },
    }


# --------------------------------------------------------------------------- 2018


def _panel_2018(
    respondents: Sequence[Respondent],
    colls: Sequence[Collectivity],
    exclude: set[str],
    rng: random.Random,
    themes: Sequence[str],
) -> list[Respondent]:
    """28 continuing respondents (all the aliased ones among them) and 11 others."""
    aliased = [r for r in respondents if r.siren in ALIASES_2018]
    rest = sorted(
        (r for r in respondents if r.siren not in ALIASES_2018),
        key=lambda r: (rng.random(), r.siren),
    )
    continuing = aliased + rest[: CONTINUING_2018 - len(aliased)]
    panel: list[Respondent] = []
    for r in continuing:  # same collectivity, slightly less mature three years earlier
        effect = {t: v + rng.gauss(0, 0.2) for t, v in r.theme_effect.items()}
        panel.append(
            Respondent(
                r.collectivity,
                r.group,
                r.latent + rng.gauss(0, 0.25),
                effect,
                r.specialties,
                r.education_nc,
            )
        )
    groups = [g for g, _s in GROUP_SHARES]
    weights = [s for _g, s in GROUP_SHARES]
    for c in pick_others(colls, set(exclude), rng, OTHERS_2018):
        group = rng.choices(groups, weights=weights)[0]
        panel.append(
            Respondent(
                c,
                group,
                GROUP_LATENT[group] + rng.gauss(0, 0.3),
                {t: rng.gauss(0, 0.3) for t in themes},
            )
        )
    nc = [r for r in panel if r.education_nc]
    epci = [
        r
        for r in panel
        if not r.education_nc and r.collectivity.type_code != "COM" and r.group != "leader"
    ]
    for r in sorted(epci, key=lambda r: (rng.random(), r.siren))[: max(NC_2018 - len(nc), 0)]:
        r.education_nc = True
    return panel


def _write_2018(
    out_dir: Path,
    edition: Edition,
    panel: Sequence[Respondent],
    matrix: Mapping[str, Mapping[str, int]],
    rng: random.Random,
    continuing_sirens: set[str],
) -> dict[str, Any]:
    start = dt.date(edition.year, 3, 5)
    end = dt.date(edition.year, 5, 31)
    collectors = (rng.randint(170_000_000, 179_999_999), rng.randint(180_000_000, 189_999_999))
    subs = []
    for r in panel:
        began = _when(rng, start, end)
        alias = ALIASES_2018.get(r.siren)
        subs.append((began, began + _duration(rng), r, alias[0] if alias else r.collectivity.name))
    subs.sort(key=lambda s: s[0])
    meta = list(SURVEYMONKEY_COLUMNS)
    row1 = meta + [q.wording_fr for q in edition.questions]
    row2 = [""] * len(meta) + ["Response"] * len(edition.questions)
    labels = edition.level_labels
    rows: list[list[str | int | None]] = []
    rid = 6_800_000_000 + rng.randrange(100_000_000)
    for began, ended, r, name in subs:
        rid += rng.randint(20_000, 900_000)
        first, last, mail = _person(rng)
        answers = []
        for q in edition.questions:
            v = matrix[r.siren][q.question_code]
            answers.append(
                "" if v == NO_ANSWER else NOT_CONCERNED_LABEL if v == NOT_CONCERNED else labels[v]
            )
        rows.append(
            [
                rid,
                rng.choice(collectors),
                began.strftime(SM_TIME),
                ended.strftime(SM_TIME),
                _ip(rng),
                mail,
                first,
                last,
                name,
                *answers,
            ]
        )
    write_surveymonkey_xlsx(out_dir / XLSX_NAME, row1, row2, rows)
    (out_dir / "manifest.yml").write_text(
        surveymonkey_manifest(
            edition=edition.code,
            files=[XLSX_NAME],
            timestamp_format=SM_TIME,
            not_concerned=NOT_CONCERNED_LABEL,
            comment=f"{WRITTEN_BY}\n"
            "Layout of a SurveyMonkey 'All responses data' XLSX (expanded): see NOTE.md.",
        ),
        encoding="utf-8",
        newline="\n",
    )
    return {
        "file": XLSX_NAME,
        "data_rows": len(rows),
        "respondents": len(panel),
        "continuing": sum(1 for r in panel if r.siren in continuing_sirens),
        "aliases": [
            {"alias": a, "siren": s, "type_code": t}
            for s, (a, t) in ALIASES_2018.items()
            if any(r.siren == s for r in panel)
        ],
    }


def _check_aliases(seeds_dir: Path) -> None:
    known = load_aliases(seeds_dir)
    missing = [(a, s, t) for s, (a, t) in ALIASES_2018.items() if known.get(a) != (s, t)]
    if missing:
        raise ValueError(
            "seeds/collectivity_aliases.csv lacks the rows (alias, siren, type_code) "
            f"the 2018 sample uses: {missing}"
        )


# --------------------------------------------------------------------------- summary


def _stage_share(counts: Sequence[int], op: str, k: int, decimals: int = 0) -> float:
    n = sum(counts)
    if op == "le" or (op == "eq" and k == 1):
        c = sum(counts[:k])
    elif op == "eq":
        c = counts[k - 1]
    else:
        c = sum(counts[k - 1 :])
    return float(rounded_pct(c, n, decimals))


def _summarise(plans: Mapping[str, QuestionPlan]) -> dict[str, Any]:
    themes: dict[str, list[int]] = {}
    rows = []
    for code, p in plans.items():
        acc = themes.setdefault(p.question.theme_code, [0] * len(p.counts))
        for i, c in enumerate(p.counts):
            acc[i] += c
        row: dict[str, Any] = {
            "question_code": code,
            "n": p.n,
            "counts": list(p.counts),
            "source": p.source,
        }
        if p.calibration is not None:
            cal = p.calibration
            row |= {
                "printed": list(cal.printed),
                "achieved": list(cal.achieved),
                "exact": cal.exact,
                "exact_solutions": cal.alternatives,
            }
        if p.target is not None:
            row["narrative"] = {
                key: {
                    "quoted": v,
                    "achieved": _stage_share(
                        p.counts, key[:2], int(key[2:]), 0 if float(v).is_integer() else 1
                    ),
                }
                for key, v in p.target.shares.items()
            }
        rows.append(row)
    means = {t: round(mean_level(c), 3) for t, c in themes.items()}
    ranking = sorted(means, key=lambda t: -means[t])
    return {"questions": rows, "theme_means": means, "ranking": ranking}


# --------------------------------------------------------------------------- entry point


def _note(edition: str, text: str) -> str:
    return f"# Edition {edition}: SYNTHETIC sample export\n\n{text.strip()}\n"


def generate_sample(
    raw_dir: Path, seeds_dir: Path, reference_csv: Path, seed: int = SAMPLE_SEED
) -> dict:
    """Write data/raw/2021 and data/raw/2018 (exports, manifest.yml, NOTE.md); return a summary."""
    raw_dir, seeds_dir = Path(raw_dir), Path(seeds_dir)
    _check_aliases(seeds_dir)
    editions = load_editions(seeds_dir)
    new, old = editions[EDITION_NEW], editions[EDITION_OLD]
    key_of = load_crosswalk(seeds_dir)
    colls = load_collectivities(seeds_dir)
    rng = random.Random(seed)

    panel = pick_panel_2021(colls, rng)
    respondents = assign_profiles(panel, rng, new.themes, EDUCATION_THEME, NC_2021)
    calibrations = calibrate_published(Path(reference_csv), max_n=len(respondents))
    plans_new = plan_edition_from_bell(
        new,
        len(respondents),
        rng,
        calibrations,
        NARRATIVE_2021,
        THEME_MEAN_2021,
        EDUCATION_THEME,
        NC_2021,
    )
    matrix_new = answer_matrix(
        respondents,
        plans_new,
        rng,
        nc_theme=EDUCATION_THEME,
        strategy_theme=STRATEGY_THEME,
        always_concerned=ALWAYS_CONCERNED,
    )
    leaders = [r for r in respondents if r.group == "leader"]
    for r in leaders:
        levels = [
            v
            for c, v in matrix_new[r.siren].items()
            if plans_new[c].question.theme_code == STRATEGY_THEME
        ]
        if min(levels) < 4:
            raise AssertionError(f"leader {r.collectivity.name} below implementation on strategy")
    in_panel = {c.siren for c in panel}
    dup_pool = sorted((r for r in respondents if r.group == "peloton"), key=lambda r: r.siren)
    duplicate = dup_pool[rng.randrange(len(dup_pool))]
    incomplete = pick_others(colls, set(in_panel), rng, {("CU", "CA"): 1})[0]
    out_new = raw_dir / new.code
    out_new.mkdir(parents=True, exist_ok=True)
    info_new = _write_2021(out_new, new, respondents, matrix_new, duplicate, incomplete, rng)

    panel_old = _panel_2018(respondents, colls, in_panel | {incomplete.siren}, rng, old.themes)
    plans_old = plan_edition_from_other(
        old,
        len(panel_old),
        rng,
        plans_new,
        key_of,
        NARRATIVE_2018,
        THEME_SHIFT_2018,
        EDUCATION_THEME,
        NC_2018,
    )
    matrix_old = answer_matrix(
        panel_old,
        plans_old,
        rng,
        nc_theme=EDUCATION_THEME,
        strategy_theme=None,
        always_concerned=ALWAYS_CONCERNED,
    )
    out_old = raw_dir / old.code
    out_old.mkdir(parents=True, exist_ok=True)
    info_old = _write_2018(out_old, old, panel_old, matrix_old, rng, in_panel)

    dup, inc = info_new["duplicate"], info_new["incomplete"]
    note_new = f"""
`{CSV_NAME}` imitates a LimeSurvey "Export responses" CSV
(UTF-8 with BOM, `;`, every field quoted, CRLF). The collectivities are real (official
reference, Etalab); **every answer, date, e-mail, token and IP address is fabricated**
by `python -m barometre_dev.sample` (seed {seed}). The addresses 192.0.2.0/24 and
198.51.100.0/24 and the domain example.org are reserved for documentation.

- {info_new["data_rows"]} data rows for {info_new["respondents"]} respondents.
- Row id {dup["earlier_id"]}: an earlier complete submission of {dup["collectivity"]},
  superseded by row id {dup["kept_id"]} (manifest rule `duplicates: latest_complete`).
- Row id {inc["id"]}: an incomplete response (empty `submitdate`) of {inc["collectivity"]},
  which is not one of the {info_new["respondents"]} respondents.

Once the duplicate rule is applied and the incomplete row dropped, the distributions
the 2021 report prints are reproduced (see docs/sample-data.md).
"""
    aliases = "\n".join(
        f'  - "{a["alias"]}" (SIREN {a["siren"]}'
        + (f", then a {a['type_code']})" if a["type_code"] else ")")
        for a in info_old["aliases"]
    )
    note_old = f"""
`{XLSX_NAME}` imitates a SurveyMonkey "All responses data"
XLSX export (row 1: column names and question wordings, row 2: `Response` sub-headers,
data from row 3). The collectivities are real (official reference, Etalab); **every
answer, date, name, e-mail and IP address is fabricated** by `python -m barometre_dev.sample`
(seed {seed}).

- {info_old["data_rows"]} respondents; {info_old["continuing"]} of them also answer the 2021 sample.
- Names as written in 2018, resolved through seeds/collectivity_aliases.csv:
{aliases}
- Answers are the level labels of seeds/scale_levels.csv (5-level scale),
  "Non concerné", or an empty cell (no answer).
"""
    for folder, code, text in ((out_new, new.code, note_new), (out_old, old.code, note_old)):
        (folder / "NOTE.md").write_text(_note(code, text), encoding="utf-8", newline="\n")

    return {
        "seed": seed,
        "raw_dir": str(raw_dir),
        "editions": {
            new.code: info_new
            | _summarise(plans_new)
            | {
                "groups": {g: sum(r.group == g for r in respondents) for g, _ in GROUP_SHARES},
                "report_groups": _report_groups(panel, seeds_dir),
                "leaders": [r.collectivity.name for r in leaders],
            },
            old.code: info_old | _summarise(plans_old),
        },
    }


def _report_groups(panel: Sequence[Collectivity], seeds_dir: Path) -> dict[str, int]:
    """Respondents per report group (seeds/collectivity_types.csv)."""
    group_of = {
        r["type_code"]: r["report_group"] for r in seed_rows(seeds_dir, "collectivity_types.csv")
    }
    out: dict[str, int] = {}
    for c in panel:
        out[group_of[c.type_code]] = out.get(group_of[c.type_code], 0) + 1
    return out
