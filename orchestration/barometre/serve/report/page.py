"""The report page: from the published figures (ReportData) to one self-contained HTML page.

The page builder shapes the marts' rows into sections, figures and data tables in
French, and renders them with a Jinja2 template (package data, `templates/`). It never
recomputes a published value: shares and percentages are the marts' own; rounding a
share the marts give only exactly (a theme's share at stage ≥ 4) follows the marts'
rule (half up). A suppressed cell is written "secret statistique", never left blank.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from barometre.serve.report import charts
from barometre.serve.report.queries import ReportData, Row

TEMPLATES = Path(__file__).with_name("templates")
SECRET = "secret statistique"
SUPPRESSION_REASONS = {
    "small_cell": "moins de {k} répondants",
    "complementary": "secret complémentaire : protège une autre cellule",
}
SEGMENT_TYPES = {
    "ALL": "Ensemble des répondants",
    "REPORT_GROUP": "Par groupe de collectivités",
    "POPULATION_BAND": "Par tranche de population",
}
PANELS = {"ALL": "Tous les répondants", "MATCHED": "Panel constant"}
STATUS_TOP, STATUS_BOTTOM, STATUS_OTHER = (
    "3 thèmes les plus matures",
    "3 thèmes les moins matures",
    "Autres",
)
LEVEL_PALETTES = {
    5: ("#d7191c", "#fdae61", "#ffffbf", "#abd9e9", "#2c7bb6"),
    6: ("#d73027", "#fc8d59", "#fee090", "#e0f3f8", "#91bfdb", "#4575b4"),
    7: ("#d73027", "#fc8d59", "#fee090", "#ffffbf", "#e0f3f8", "#91bfdb", "#4575b4"),
}
"""ColorBrewer RdYlBu (ordered, colour-blind-safe): "not addressed" red, the top level
blue. A scale of another size takes evenly spaced colours of the 11-class ramp."""
LEVEL_RAMP = (
    *("#a50026", "#d73027", "#f46d43", "#fdae61", "#fee090", "#ffffbf"),
    *("#e0f3f8", "#abd9e9", "#74add1", "#4575b4", "#313695"),
)
GROUP_COLOURS = {
    "LEADERS": "#1a7f37",
    "PELOTON": "#1d4e89",
    "PELOTON_GENERALISTES": "#5b84b1",
    "PELOTON_SPECIALISTES": "#5b84b1",
    "RETARDATAIRES": "#b42318",
}
MONTHS = (
    *("janvier", "février", "mars", "avril", "mai", "juin"),
    *("juillet", "août", "septembre", "octobre", "novembre", "décembre"),
)
WRAP = 58
MAX_LABEL_LINES = 4

# --------------------------------------------------------------------------- formatting


def fr_number(value: float | None, digits: int = 1) -> str:
    """3.25 → '3,3' (French decimal comma)."""
    if value is None:
        return SECRET
    return f"{value:.{digits}f}".replace(".", ",")


def pct_half_up(share: float) -> int:
    """Whole percent rounded half up, as the marts round (floor(100·share + 0.5)); the
    epsilon keeps a .5 that floating point put a hair below."""
    return math.floor(100 * share + 0.5 + 1e-9)


def fr_pct(value: int | float | None) -> str:
    """A whole percentage as printed: '43 %' (no-break space)."""
    if value is None:
        return SECRET
    return f"{int(value)}\u00a0%"


def fr_share(share: float | None) -> str:
    return SECRET if share is None else fr_pct(pct_half_up(share))


def fr_points(diff: float | None) -> str:
    """A difference of shares in percentage points, signed: '+14 pts', '−3 pts'."""
    if diff is None:
        return "—"
    points = pct_half_up(abs(diff))
    sign = "+" if diff > 0 and points else "−" if diff < 0 and points else ""
    return f"{sign}{points}\u00a0pts"


def fr_month(day: dt.date | str | None) -> str:
    if day is None:
        return "?"
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    return f"{MONTHS[day.month - 1]} {day.year}"


def secret_label(row: Row, k: int | None) -> str | None:
    """None for a published cell; "secret statistique (why)" for a suppressed one."""
    if not row.get("is_suppressed"):
        return None
    reason = SUPPRESSION_REASONS.get(row.get("suppression_reason") or "")
    if reason is None:
        return SECRET
    return f"{SECRET} ({reason.format(k=k if k else 'k')})"


def level_colours(n: int) -> list[str]:
    if n in LEVEL_PALETTES:
        return list(LEVEL_PALETTES[n])
    if n <= 1:
        return list(LEVEL_RAMP[-1:])[:n]
    last = len(LEVEL_RAMP) - 1
    return [LEVEL_RAMP[round(i * last / (n - 1))] for i in range(n)]


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on the colour (relative luminance)."""
    r, g, b = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    return "#ffffff" if luminance < 0.22 else "#111111"


def wrap_label(text: str, width: int = WRAP, lines: int = MAX_LABEL_LINES) -> str:
    wrapped = textwrap.wrap(text, width) or [""]
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], textwrap.shorten(" ".join(wrapped[lines - 1 :]), width)]
    return "\n".join(wrapped)


# --------------------------------------------------------------------------- page model


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Figure:
    id: str
    title: str
    svg: Markup
    """The chart's SVG (charts), inlined by the template."""
    table: Table
    caption: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class ThemeSection:
    id: str
    number: int
    code: str
    label: str
    description: str
    key_figures: list[tuple[str, str]]
    figure: Figure | None
    questions: list[dict[str, Any]]


class PageBuilder:
    """Turns ReportData into the template's context, charts drawn (charts) as SVG."""

    def __init__(self, data: ReportData, min_cell_size: int | None) -> None:
        self.data = data
        self.charts = charts
        self.k = min_cell_size
        self.edition = data.edition["edition_code"]
        self.scale_max = int(data.edition["scale_size"])

    def _svg(self, svg: str) -> Markup:
        # charts escape every text they draw: the SVG is inlined as it is
        return Markup(svg)

    # ----------------------------------------------------------------- overview

    def overview(self) -> dict[str, Any]:
        e = self.data.edition
        segments = self.data.segments
        total = next((s["n_respondents"] for s in segments if s["segment_type"] == "ALL"), None)
        rows = [s for s in segments if s["segment_type"] != "ALL"]
        records = [
            {
                "label": s["segment_label_fr"],
                "share": (s["n_respondents"] / total) if total else 0,
                "pct_label": str(s["n_respondents"]),
                "colour": "#1d4e89" if s["segment_type"] == "REPORT_GROUP" else "#5b84b1",
                "suppressed_label": None,
            }
            for s in rows
        ]
        figure = Figure(
            id="fig-repondants",
            title="Répondants par groupe de collectivités et par tranche de population",
            svg=self._svg(self.charts.group_shares(records)),
            caption=f"{total} répondants. Barres : part des répondants de l'édition ; "
            "étiquette : nombre de répondants.",
            table=Table(
                ["Segmentation", "Segment", "Répondants"],
                [
                    [
                        SEGMENT_TYPES[s["segment_type"]],
                        s["segment_label_fr"],
                        str(s["n_respondents"]),
                    ]
                    for s in segments
                ],
            ),
        )
        scale = Table(
            ["Niveau", "Intitulé", "Stade"],
            [
                [str(lv["level"]), lv["label_fr"], str(lv["stage_order"] or "—")]
                for lv in self.data.scale
            ],
        )
        return {
            "facts": [
                ("Édition", f"{e['edition_number']}e édition ({e['edition_year']})"),
                ("Enquête", f"de {fr_month(e['field_start'])} à {fr_month(e['field_end'])}"),
                ("Répondants", str(total) if total is not None else "?"),
                ("Thèmes", str(e["theme_count"])),
                ("Échelle", f"{e['scale_size']} niveaux de maturité"),
            ],
            "figure": figure,
            "scale": scale,
        }

    # ----------------------------------------------------------------- themes

    def _distribution_figure(self, theme: Row, questions: list[Row]) -> Figure:
        labels = [lv["label_fr"] for lv in self.data.scale]
        colours = level_colours(len(labels))
        by_question: dict[str, list[Row]] = {}
        for lv in self.data.levels:
            by_question.setdefault(lv["question_code"], []).append(lv)
        segments: list[Row] = []
        rows: list[Row] = []
        table_rows: list[list[str]] = []
        for q in questions:
            secret = secret_label(q, self.k)
            row_label = wrap_label(f"Q{q['order_in_theme']} · {q['wording_fr']}")
            rows.append(
                {
                    "row_label": row_label,
                    "n_label": f"n = {q['n_answering']}",
                    "suppressed_label": secret,
                }
            )
            cumulative = 0.0
            pcts = []
            for lv, colour in zip(
                sorted(by_question.get(q["question_code"], []), key=lambda r: r["level"]),
                colours,
                strict=False,
            ):
                pcts.append(fr_pct(lv["pct"]) if not secret else SECRET)
                if secret or lv["share"] is None:
                    continue
                x0, cumulative = cumulative, cumulative + lv["share"]
                segments.append(
                    {
                        "row_label": row_label,
                        "level_label": lv["level_label_fr"],
                        "x0": x0,
                        "x1": cumulative,
                        "mid": (x0 + cumulative) / 2,
                        "pct_label": fr_pct(lv["pct"]),
                        "show_text": (lv["pct"] or 0) >= 5,
                        "text_colour": text_colour(colour),
                    }
                )
            table_rows.append(
                [
                    f"Q{q['order_in_theme']}",
                    q["wording_fr"],
                    *pcts,
                    fr_pct(q["pct_stage_ge_4"]) if not secret else SECRET,
                    str(q["n_answering"]),
                    str(q["n_not_concerned"]),
                    str(q["n_no_answer"]),
                ]
            )
        lines = max((r["row_label"].count("\n") + 1 for r in rows), default=1)
        chart = self.charts.stacked_levels(segments, rows, labels, colours, label_lines=lines)
        return Figure(
            id=f"fig-distribution-{theme['theme_code']}",
            title=f"Répartition des réponses par niveau — {theme['label_fr']}",
            svg=self._svg(chart),
            caption="Part des collectivités ayant répondu, par niveau de maturité ; "
            "pourcentages arrondis à l'entier le plus proche (le total d'une ligne peut "
            "faire 99 ou 101 %) ; n = nombre de collectivités ayant répondu.",
            table=Table(
                [
                    "Question",
                    "Affirmation",
                    *[f"{i}. {lb}" for i, lb in enumerate(labels, 1)],
                    "Stade ≥ 4",
                    "n (réponses)",
                    "Non concernées",
                    "Sans réponse",
                ],
                table_rows,
            ),
        )

    def themes(self) -> list[ThemeSection]:
        questions: dict[str, list[Row]] = {}
        for q in self.data.questions:
            questions.setdefault(q["theme_code"], []).append(q)
        overall = {
            m["theme_code"]: m for m in self.data.theme_maturity if m["segment_type"] == "ALL"
        }
        transverse = {t["transverse_code"]: t["label_fr"] for t in self.data.transverse_themes}
        sections = []
        for theme in self.data.themes:
            code = theme["theme_code"]
            qs = questions.get(code, [])
            m = overall.get(code)
            facts: list[tuple[str, str]] = []
            if m is not None:
                secret = secret_label(m, self.k)
                facts = [
                    ("Collectivités ayant répondu", str(m["n_respondents"])),
                    (
                        "Maturité moyenne",
                        secret
                        or f"{fr_number(m['mean_maturity'], 2)} sur {self.scale_max} "
                        f"(IC 95 % : {fr_number(m['ci_low'], 2)} – {fr_number(m['ci_high'], 2)})",
                    ),
                    ("Réponses au stade ≥ 4", secret or fr_share(m["share_stage_ge_4"])),
                    (
                        "Rang",
                        secret or f"{m['rank_in_edition']} sur {m['n_ranked']}",
                    ),
                ]
            sections.append(
                ThemeSection(
                    id=f"theme-{code}",
                    number=theme["theme_number"],
                    code=code,
                    label=theme["label_fr"],
                    description=theme["description_fr"] or "",
                    key_figures=facts,
                    figure=self._distribution_figure(theme, qs) if qs else None,
                    questions=[
                        {
                            "label": f"Q{q['order_in_theme']}",
                            "wording": q["wording_fr"],
                            "reconstructed": q["wording_status"] == "reconstructed",
                            "transverse": [
                                transverse.get(t, t)
                                for t in (q["transverse_codes"] or "").replace(",", " ").split()
                            ],
                        }
                        for q in qs
                    ],
                )
            )
        return sections

    # ----------------------------------------------------------------- ranking

    def _mean_records(self, rows: Sequence[Row], label_key: str, ranked: bool) -> list[dict]:
        def status(r: Row) -> str:
            if ranked and r.get("is_top_3"):
                return STATUS_TOP
            if ranked and r.get("is_bottom_3"):
                return STATUS_BOTTOM
            return STATUS_OTHER

        ordered = sorted(
            rows,
            key=lambda r: (r["mean_maturity"] is None, -(r["mean_maturity"] or 0), r[label_key]),
        )
        return [
            {
                "label": r[label_key],
                "mean": r["mean_maturity"],
                "ci_low": r["ci_low"],
                "ci_high": r["ci_high"] if r["ci_high"] is not None else r["mean_maturity"],
                "mean_label": fr_number(r["mean_maturity"], 2),
                "status": status(r),
                "suppressed_label": secret_label(r, self.k),
            }
            for r in ordered
        ]

    def ranking(self) -> dict[str, Any]:
        overall = [m for m in self.data.theme_maturity if m["segment_type"] == "ALL"]
        records = self._mean_records(overall, "theme_label_fr", ranked=True)
        axis = f"maturité moyenne (échelle 1-{self.scale_max})"
        ranking = Figure(
            id="fig-classement",
            title="Classement des thèmes par maturité moyenne",
            svg=self._svg(
                self.charts.mean_intervals(records, scale_max=self.scale_max, title=axis)
            ),
            caption="Point : maturité moyenne des collectivités sur le thème ; trait : "
            "intervalle de confiance à 95 %. En vert les 3 thèmes les plus matures, en "
            "rouge les 3 moins matures.",
            table=Table(
                [
                    "Rang",
                    "Thème",
                    "Maturité moyenne",
                    "IC 95 % bas",
                    "IC 95 % haut",
                    "Réponses au stade ≥ 4",
                    "n",
                    "Repère",
                ],
                [
                    [
                        str(m["rank_in_edition"]) if m["rank_in_edition"] else SECRET,
                        m["theme_label_fr"],
                        fr_number(m["mean_maturity"], 2),
                        fr_number(m["ci_low"], 2),
                        fr_number(m["ci_high"], 2),
                        fr_share(m["share_stage_ge_4"]),
                        str(m["n_respondents"]),
                        secret_label(m, self.k)
                        or ("Top 3" if m["is_top_3"] else "Bottom 3" if m["is_bottom_3"] else "—"),
                    ]
                    for m in sorted(
                        overall, key=lambda m: (m["rank_in_edition"] or 999, m["theme_number"])
                    )
                ],
            ),
        )
        transverse = [m for m in self.data.transverse_maturity if m["segment_type"] == "ALL"]
        figures = [ranking]
        if transverse:
            figures.append(
                Figure(
                    id="fig-transverses",
                    title="Thèmes transverses : maturité moyenne",
                    svg=self._svg(
                        self.charts.mean_intervals(
                            self._mean_records(transverse, "transverse_label_fr", ranked=False),
                            scale_max=self.scale_max,
                            title=axis,
                            legend=False,
                        )
                    ),
                    caption="Maturité moyenne des collectivités sur les questions rattachées "
                    "à chaque thème transverse (une question peut en porter plusieurs : "
                    "ces chiffres ne s'additionnent pas à ceux des thèmes).",
                    table=Table(
                        [
                            "Thème transverse",
                            "Questions",
                            "Maturité moyenne",
                            "IC 95 %",
                            "Collectivités à maturité ≥ 4",
                            "n",
                        ],
                        [
                            [
                                m["transverse_label_fr"],
                                str(m["n_questions"]),
                                secret_label(m, self.k) or fr_number(m["mean_maturity"], 2),
                                secret_label(m, self.k)
                                or f"{fr_number(m['ci_low'], 2)} – {fr_number(m['ci_high'], 2)}",
                                fr_share(m["share_respondents_mean_ge_4"]),
                                str(m["n_respondents"]),
                            ]
                            for m in transverse
                        ],
                    ),
                )
            )
        return {"figures": figures, "by_group": self._by_group_table()}

    def _by_group_table(self) -> Table:
        """Theme means per report group and population band (suppressed cells shown)."""
        segs = [s for s in self.data.segments if s["segment_type"] != "ALL"]
        cells: dict[tuple[str, str, str], Row] = {
            (m["theme_code"], m["segment_type"], m["segment_code"]): m
            for m in self.data.theme_maturity
        }
        rows = []
        for theme in self.data.themes:
            row = [theme["label_fr"]]
            for s in segs:
                m = cells.get((theme["theme_code"], s["segment_type"], s["segment_code"]))
                if m is None:
                    row.append("—")
                else:
                    row.append(secret_label(m, self.k) or fr_number(m["mean_maturity"], 2))
            rows.append(row)
        return Table(
            ["Thème", *[f"{s['segment_label_fr']} (n = {s['n_respondents']})" for s in segs]],
            rows,
            caption="Maturité moyenne par thème et par segment de collectivités "
            f"(échelle 1-{self.scale_max}). « {SECRET} » : cellule masquée par le "
            "contrôle de divulgation.",
        )

    # ----------------------------------------------------------------- groups

    def groups(self) -> dict[str, Any]:
        groups = self.data.groups
        if not groups:
            return {"figure": None, "rules": [], "classified": None}
        records = [
            {
                "label": ("↳ " if g["group_level"] == "SUBGROUP" else "")
                + g["maturity_group_label_fr"],
                "share": g["share_respondents"],
                "pct_label": fr_pct(g["pct_respondents"]),
                "colour": GROUP_COLOURS.get(g["maturity_group_code"], "#4b5563"),
                "suppressed_label": secret_label(g, self.k),
            }
            for g in groups
        ]
        figure = Figure(
            id="fig-groupes",
            title="Répartition des collectivités en groupes de maturité",
            svg=self._svg(self.charts.group_shares(records)),
            caption="Part des collectivités classées dans chaque groupe ; les deux "
            "sous-groupes du peloton sont des parts de l'ensemble (leur somme est celle "
            "du peloton).",
            table=Table(
                ["Groupe", "Collectivités", "Part", "Part du peloton", "Maturité générale moyenne"],
                [
                    [
                        g["maturity_group_label_fr"],
                        secret_label(g, self.k) or str(g["n_respondents"]),
                        fr_pct(g["pct_respondents"]),
                        fr_share(g["share_of_parent_group"])
                        if g["group_level"] == "SUBGROUP"
                        else "—",
                        fr_number(g["mean_general_maturity"], 2),
                    ]
                    for g in groups
                ],
            ),
        )
        return {
            "figure": figure,
            "rules": [(g["maturity_group_label_fr"], g["rule_fr"]) for g in groups],
            "classified": groups[0]["n_classified_respondents"],
        }

    # ----------------------------------------------------------------- comparison

    def comparison(self) -> dict[str, Any] | None:
        previous = self.data.previous_edition
        if previous is None or not self.data.comparison:
            return None
        year_from, year_to = str(previous["edition_year"]), str(self.data.edition["edition_year"])
        themes = [r for r in self.data.comparison if r["comparison_level"] == "THEME"]
        questions = [r for r in self.data.comparison if r["comparison_level"] == "QUESTION"]
        records = []
        for r in themes:
            secret = secret_label(r, self.k)
            for year, share, pct in (
                (year_from, r["share_ge_4_from"], r["pct_ge_4_from"]),
                (year_to, r["share_ge_4_to"], r["pct_ge_4_to"]),
            ):
                records.append(
                    {
                        "panel": PANELS.get(r["panel_code"], r["panel_code"]),
                        "theme": r["theme_label_fr"],
                        "edition": year,
                        "share": share,
                        "pct_label": fr_pct(pct) if not secret else SECRET,
                        "suppressed_label": secret,
                    }
                )
        figure = Figure(
            id="fig-comparaison",
            title=f"Réponses aux stades de mise en œuvre (≥ 4), {year_from} et {year_to}",
            svg=self._svg(
                self.charts.edition_comparison(
                    records, panels=list(PANELS.values()), editions=[year_from, year_to]
                )
            ),
            caption="Sur les seules questions identiques dans les deux éditions ; à gauche "
            "tous les répondants de chaque édition, à droite les seules collectivités "
            "ayant répondu aux deux.",
            table=self._comparison_table(themes, "Thème", lambda r: r["theme_label_fr"]),
        )
        return {
            "from": year_from,
            "to": year_to,
            "figure": figure,
            "questions": self._comparison_table(
                questions, "Question", lambda r: f"{r['question_code_to']} · {r['wording_fr']}"
            ),
            "n_questions": len({r["subject_code"] for r in questions}),
        }

    def _comparison_table(
        self, rows: Sequence[Row], first: str, label: Callable[[Row], str]
    ) -> Table:
        paired: dict[str, dict[str, Row]] = {}
        for r in rows:
            paired.setdefault(r["subject_code"], {})[r["panel_code"]] = r
        cols = [first]
        for panel in PANELS.values():
            cols += [f"{panel} : n", f"{panel} : avant", f"{panel} : après", f"{panel} : écart"]
        out = []
        for panels in paired.values():
            any_row = next(iter(panels.values()))
            line = [label(any_row)]
            for code in PANELS:
                cell = panels.get(code)
                if cell is None:
                    line += ["—"] * 4
                    continue
                secret = secret_label(cell, self.k)
                diff = cell["diff_share_ge_4"]
                line += [
                    f"{cell['n_respondents_from']} → {cell['n_respondents_to']}",
                    secret or fr_pct(cell["pct_ge_4_from"]),
                    secret or fr_pct(cell["pct_ge_4_to"]),
                    secret or fr_points(diff),
                ]
            out.append(line)
        return Table(cols, out)

    # ----------------------------------------------------------------- all

    def context(self) -> dict[str, Any]:
        e = self.data.edition
        return {
            "edition": e,
            "publication": self.data.publication,
            "overview": self.overview(),
            "themes": self.themes(),
            "ranking": self.ranking(),
            "groups": self.groups(),
            "comparison": self.comparison(),
            "previous": self.data.previous_edition,
            "k": self.k,
            "secret": SECRET,
            "scale": self.data.scale,
            "scale_max": self.scale_max,
            "transverse_themes": self.data.transverse_themes,
            "generated_on": dt.date.today().isoformat(),
        }


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(
    data: ReportData,
    *,
    min_cell_size: int | None = None,
    ci_z: float | None = None,
) -> str:
    """The edition's report as one HTML page (CSS and SVG charts inlined)."""
    context = PageBuilder(data, min_cell_size).context()
    env = environment()
    context["z"] = fr_number(ci_z, 2) if ci_z else "z"
    context["css"] = Markup((TEMPLATES / "report.css").read_text(encoding="utf-8"))
    return env.get_template("report.html.j2").render(**context)
