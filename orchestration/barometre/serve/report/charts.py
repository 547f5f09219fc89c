"""The report's charts: Vega-Altair specifications rendered to SVG by vl-convert, offline.

vl-convert embeds Vega, Vega-Lite and its JavaScript engine: rendering needs no network
and no browser, and the SVG it writes references no font file, script or image, so the
page that inlines it makes no request. altair and vl_convert are imported here only,
and this module only by the report builder (never when Dagster loads the code).

Every chart takes plain records (lists of dicts) already computed by the page builder:
positions of stacked segments are computed there, so a chart is a drawing, not a
calculation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import vl_convert

from barometre.serve.report.chart_worker import WARM_UP_SPEC

VEGA_LITE_VERSION = "v" + alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0].replace(".", "_")
"""The Vega-Lite version altair writes (e.g. v6_4), passed to vl-convert."""

FONT = "sans-serif"
SUPPRESSED_FILL = "#e6e6e6"
SUPPRESSED_TEXT = "#555555"
TOP_COLOUR = "#1a7f37"
BOTTOM_COLOUR = "#b42318"
OTHER_COLOUR = "#4b5563"
EDITION_COLOURS = ("#9ca3af", "#1d4e89")
"""Earlier edition, later edition (comparison chart)."""

Record = dict[str, Any]


def spec_of(chart: alt.TopLevelMixin | dict[str, Any]) -> dict[str, Any]:
    """The Vega-Lite dict vl-convert is given for a chart."""
    # Not validated against the Vega-Lite schema again on every render (~10 % of a
    # page's CPU): the charts are this module's, and test_report renders every kind.
    return chart if isinstance(chart, dict) else chart.to_dict(validate=False)


def convert(spec: dict[str, Any]) -> str:
    """vl-convert's SVG of a Vega-Lite dict, on this process's engine."""
    return vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE_VERSION)


def accessible(svg: str) -> str:
    """The SVG as the page inlines it: the outer <svg> gets a role for assistive
    technologies; its text alternative is the figure's caption and data table."""
    return svg.replace("<svg ", '<svg role="img" focusable="false" ', 1)


def to_svg(chart: alt.TopLevelMixin | dict[str, Any]) -> str:
    """Render a chart (or a Vega-Lite dict) to an SVG string, offline, in this process."""
    return accessible(convert(spec_of(chart)))


def warm_up() -> None:
    """Start this process's vl-convert engine with this Vega-Lite version (its first
    conversion, about a second)."""
    convert(WARM_UP_SPEC)


def _base(records: Sequence[Record]) -> alt.Chart:
    return alt.Chart(alt.Data(values=list(records)))


def _config(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (
        chart.configure(font=FONT)
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=11, titleFontSize=11, labelColor="#222", titleColor="#222")
    )


def stacked_levels(
    segments: Sequence[Record],
    rows: Sequence[Record],
    levels: Sequence[str],
    colours: Sequence[str],
    *,
    label_lines: int,
) -> alt.TopLevelMixin:
    """100 % stacked bars, one per question.

    segments: row_label, level_label, x0, x1 (exact shares, cumulative), pct (rounded as
    printed), mid, text_colour, show_text; rows: row_label, n_label, suppressed_label
    (None when published). Rows keep the order given."""
    order = [r["row_label"] for r in rows]
    step = max(30, 14 * label_lines + 12)
    y = alt.Y(
        "row_label:N",
        sort=order,
        title=None,
        axis=alt.Axis(
            labelExpr="split(datum.label, '\\n')",
            labelLimit=360,
            labelPadding=8,
            ticks=False,
            domain=False,
            labelFontSize=11,
        ),
    )
    x_scale = alt.Scale(domain=[0, 1], nice=False)
    bars = (
        _base(segments)
        .mark_bar(stroke="white", strokeWidth=1)
        .encode(
            y=y,
            x=alt.X(
                "x0:Q",
                scale=x_scale,
                axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1], grid=False),
                title=None,
            ),
            x2="x1:Q",
            color=alt.Color(
                "level_label:N",
                sort=list(levels),
                scale=alt.Scale(domain=list(levels), range=list(colours)),
                legend=alt.Legend(
                    title=None,
                    orient="bottom",
                    direction="vertical",
                    columns=2,
                    labelLimit=330,
                    labelFontSize=11,
                    symbolType="square",
                ),
            ),
        )
    )
    labels = (
        _base([s for s in segments if s["show_text"]])
        .mark_text(fontSize=10, fontWeight="bold")
        .encode(
            y=alt.Y("row_label:N", sort=order),
            x=alt.X("mid:Q", scale=x_scale),
            text="pct_label:N",
            color=alt.Color("text_colour:N", scale=None),
        )
    )
    n_text = (
        _base(rows)
        .mark_text(align="left", dx=6, fontSize=10, color="#333")
        .encode(y=alt.Y("row_label:N", sort=order), x=alt.datum(1), text="n_label:N")
    )
    layers = [bars, labels, n_text]
    suppressed = [r for r in rows if r["suppressed_label"]]
    if suppressed:
        layers += [
            _base(suppressed)
            .mark_bar(color=SUPPRESSED_FILL)
            .encode(y=alt.Y("row_label:N", sort=order), x=alt.datum(0), x2=alt.datum(1)),
            _base(suppressed)
            .mark_text(fontSize=11, fontStyle="italic", color=SUPPRESSED_TEXT)
            .encode(
                y=alt.Y("row_label:N", sort=order), x=alt.datum(0.5), text="suppressed_label:N"
            ),
        ]
    chart = alt.layer(*layers).properties(width=460, height=alt.Step(step))
    return _config(chart)


def mean_intervals(
    records: Sequence[Record], *, scale_max: int, title: str, legend: bool = True
) -> alt.TopLevelMixin:
    """Mean maturity with its 95 % interval, one row per theme, most mature first.

    records: label, mean, ci_low, ci_high, mean_label, status (Top 3 / Bottom 3 /
    Autre), suppressed_label (None when published); in display order."""
    order = [r["label"] for r in records]
    published = [r for r in records if not r["suppressed_label"]]
    x_scale = alt.Scale(domain=[1, scale_max], nice=False)
    statuses = ["3 thèmes les plus matures", "3 thèmes les moins matures", "Autres"]
    colour = alt.Color(
        "status:N",
        scale=alt.Scale(domain=statuses, range=[TOP_COLOUR, BOTTOM_COLOUR, OTHER_COLOUR]),
        legend=alt.Legend(title=None, orient="bottom", direction="horizontal") if legend else None,
    )
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=300, ticks=False))
    x_axis = alt.Axis(values=list(range(1, scale_max + 1)), format="d", grid=True)
    rules = (
        _base(published)
        .mark_rule(strokeWidth=2)
        .encode(
            y=y,
            x=alt.X("ci_low:Q", scale=x_scale, axis=x_axis, title=title),
            x2="ci_high:Q",
            color=colour,
        )
    )
    points = (
        _base(published)
        .mark_point(filled=True, size=70, opacity=1)
        .encode(y=alt.Y("label:N", sort=order), x=alt.X("mean:Q", scale=x_scale), color=colour)
    )
    text = (
        _base(published)
        .mark_text(dy=-9, fontSize=10, color="#222")
        .encode(
            y=alt.Y("label:N", sort=order), x=alt.X("mean:Q", scale=x_scale), text="mean_label:N"
        )
    )
    layers = [rules, points, text]
    suppressed = [r for r in records if r["suppressed_label"]]
    if suppressed:
        layers.append(
            _base(suppressed)
            .mark_text(fontSize=11, fontStyle="italic", color=SUPPRESSED_TEXT, align="left", dx=4)
            .encode(y=alt.Y("label:N", sort=order), x=alt.datum(1), text="suppressed_label:N")
        )
    return _config(alt.layer(*layers).properties(width=420, height=alt.Step(30)))


def group_shares(records: Sequence[Record]) -> alt.TopLevelMixin:
    """Share of the classified respondents in each maturity group and peloton sub-group.

    records: label, share, pct_label, colour, suppressed_label; in display order."""
    order = [r["label"] for r in records]
    published = [r for r in records if not r["suppressed_label"]]
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=260, ticks=False))
    x_scale = alt.Scale(domain=[0, 1], nice=False)
    bars = (
        _base(published)
        .mark_bar(height=20)
        .encode(
            y=y,
            x=alt.X("share:Q", scale=x_scale, axis=alt.Axis(format="%"), title=None),
            color=alt.Color("colour:N", scale=None),
        )
    )
    text = (
        _base(published)
        .mark_text(align="left", dx=5, fontSize=11, fontWeight="bold")
        .encode(
            y=alt.Y("label:N", sort=order), x=alt.X("share:Q", scale=x_scale), text="pct_label:N"
        )
    )
    layers = [bars, text]
    suppressed = [r for r in records if r["suppressed_label"]]
    if suppressed:
        layers.append(
            _base(suppressed)
            .mark_text(fontSize=11, fontStyle="italic", color=SUPPRESSED_TEXT, align="left", dx=4)
            .encode(y=alt.Y("label:N", sort=order), x=alt.datum(0), text="suppressed_label:N")
        )
    return _config(alt.layer(*layers).properties(width=420, height=alt.Step(32)))


def edition_comparison(
    records: Sequence[Record], *, panels: Sequence[str], editions: Sequence[str]
) -> alt.TopLevelMixin:
    """Share of answers at stage ≥ 4 per theme, earlier and later edition side by side,
    one panel per column (all respondents | matched panel).

    records: panel, theme, edition, share, pct_label, suppressed_label; themes in order."""
    themes = list(dict.fromkeys(r["theme"] for r in records))
    x_scale = alt.Scale(domain=[0, 1], nice=False)
    colour = alt.Color(
        "edition:N",
        sort=list(editions),
        scale=alt.Scale(domain=list(editions), range=list(EDITION_COLOURS)),
        legend=alt.Legend(title=None, orient="bottom", direction="horizontal"),
    )
    y = alt.Y("theme:N", sort=themes, title=None, axis=alt.Axis(labelLimit=260, ticks=False))
    bars = (
        alt.Chart()
        .transform_filter("datum.suppressed_label == null")
        .mark_bar(height=11)
        .encode(
            y=y,
            yOffset=alt.YOffset("edition:N", sort=list(editions)),
            x=alt.X(
                "share:Q",
                scale=x_scale,
                axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1]),
                title="réponses au stade ≥ 4",
            ),
            color=colour,
        )
    )
    text = (
        alt.Chart()
        .transform_filter("datum.suppressed_label == null")
        .mark_text(align="left", dx=3, fontSize=9, color="#222")
        .encode(
            y=alt.Y("theme:N", sort=themes),
            yOffset=alt.YOffset("edition:N", sort=list(editions)),
            x=alt.X("share:Q", scale=x_scale),
            text="pct_label:N",
        )
    )
    secret = (
        alt.Chart()
        .transform_filter("datum.suppressed_label != null")
        .mark_text(align="left", dx=4, fontSize=10, fontStyle="italic", color=SUPPRESSED_TEXT)
        .encode(y=alt.Y("theme:N", sort=themes), x=alt.datum(0), text="suppressed_label:N")
    )
    chart = (
        alt.layer(bars, text, secret, data=alt.Data(values=list(records)))
        .properties(width=230, height=alt.Step(30))
        .facet(
            column=alt.Column(
                "panel:N", sort=list(panels), title=None, header=alt.Header(labelFontSize=12)
            )
        )
        .resolve_scale(y="shared")
    )
    return _config(chart)
