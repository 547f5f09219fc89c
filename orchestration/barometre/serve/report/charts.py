"""The report's charts, drawn as SVG strings in Python (barometre.serve.report.svg).

Every chart takes plain records (lists of dicts) already computed by the page builder:
positions of stacked segments, rounded percentages and wrapped row labels are computed
there, so a chart is a drawing, not a calculation. A suppressed cell ("secret
statistique") is drawn as a grey bar or an italic label, never left blank.

Coordinates are those of the plot: x = 0 at the scale's start, y = 0 at the first row;
row labels, legends and axes lie around it, and the canvas sizes the SVG to hold them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from barometre.serve.report.svg import Canvas, text_width, truncate, wrap

SUPPRESSED_FILL = "#e6e6e6"
SUPPRESSED_TEXT = "#555555"
TOP_COLOUR = "#1a7f37"
BOTTOM_COLOUR = "#b42318"
OTHER_COLOUR = "#4b5563"
EDITION_COLOURS = ("#9ca3af", "#1d4e89")
"""Earlier edition, later edition (comparison chart)."""
TEXT = "#222"
AXIS = "#888"
GRID = "#ddd"
LABEL_SIZE = 11
LABEL_GAP = 6
"""Between a row label and the plot."""
TICK = 5
BAND = 0.9
"""Share of a row's step its bar takes (the rest separates the bars)."""
STATUSES = ("3 thèmes les plus matures", "3 thèmes les moins matures", "Autres")
STATUS_COLOURS = (TOP_COLOUR, BOTTOM_COLOUR, OTHER_COLOUR)
PERCENT_TICKS = (0, 0.25, 0.5, 0.75, 1)
SHARE_TICKS = (0, 0.2, 0.4, 0.6, 0.8, 1)

Record = dict[str, Any]


def percent(share: float) -> str:
    """An axis label as the page writes percentages: "25 %" (no-break space)."""
    return f"{round(share * 100)}\u00a0%"


# --------------------------------------------------------------------------- parts


def _grid(canvas: Canvas, xs: Sequence[float], height: float) -> None:
    for x in xs:
        canvas.line(x, 0, x, height, GRID)


def _x_axis(
    canvas: Canvas,
    ticks: Sequence[tuple[float, str]],
    *,
    y: float,
    width: float,
    title: str | None = None,
    left: float = 0,
) -> float:
    """A bottom axis from `left` to `left + width` at `y`: domain line, ticks, labels (the
    first and last flush with the ends, as Vega draws them) and an optional title; the y
    below it."""
    canvas.line(left, y, left + width, y, AXIS)
    label_y = y + TICK + 2 + LABEL_SIZE / 2
    for i, (x, label) in enumerate(ticks):
        canvas.line(left + x, y, left + x, y + TICK, AXIS)
        anchor = "middle"
        if i == 0 and x <= 0:
            anchor = "start"
        elif i == len(ticks) - 1 and x >= width:
            anchor = "end"
        canvas.text(left + x, label_y, label, size=LABEL_SIZE, anchor=anchor, fill=TEXT)
    bottom = label_y + LABEL_SIZE / 2
    if title:
        title_y = bottom + 4 + LABEL_SIZE / 2
        canvas.text(left + width / 2, title_y, title, size=LABEL_SIZE, anchor="middle", bold=True)
        bottom = title_y + LABEL_SIZE / 2
    return bottom


def _legend_symbol(canvas: Canvas, x: float, y: float, colour: str, shape: str) -> None:
    if shape == "circle":
        canvas.circle(x + 4.5, y, 4.5, colour)
    else:
        canvas.rect(x, y - 4.5, 9, 9, colour)


def _legend_row(
    canvas: Canvas,
    entries: Sequence[tuple[str, str]],
    *,
    y: float,
    shape: str,
    size: float = LABEL_SIZE,
) -> float:
    """Entries (colour, label) side by side from x = 0, centred on `y`; the y below."""
    x = 0.0
    for colour, label in entries:
        _legend_symbol(canvas, x, y, colour, shape)
        canvas.text(x + 14, y, label, size=size, fill=TEXT)
        x += 14 + text_width(label, size) + 16
    return y + 8


def _legend_columns(
    canvas: Canvas, entries: Sequence[tuple[str, str]], *, y: float, columns: int
) -> float:
    """Entries (colour, label) in `columns` columns filled top to bottom, then left to
    right, from x = 0 with the first row centred on `y`; the y below."""
    per_column = math.ceil(len(entries) / columns)
    row_step = 16
    x = 0.0
    for start in range(0, len(entries), per_column):
        chunk = entries[start : start + per_column]
        for i, (colour, label) in enumerate(chunk):
            _legend_symbol(canvas, x, y + i * row_step, colour, "square")
            canvas.text(x + 14, y + i * row_step, label, size=LABEL_SIZE, fill=TEXT)
        x += 14 + max(text_width(label, LABEL_SIZE) for _colour, label in chunk) + 20
    return y + (per_column - 1) * row_step + 8


def _row_labels(
    canvas: Canvas, labels: Sequence[str], step: float, *, limit: float, x: float = -LABEL_GAP
) -> None:
    """Each row's label, right-aligned before the plot and centred on its row; a line
    wider than `limit` px (estimated) is cut with "…" (the data table has it whole)."""
    for i, label in enumerate(labels):
        lines = "\n".join(truncate(line, LABEL_SIZE, limit) for line in label.split("\n"))
        canvas.text(x, (i + 0.5) * step, lines, size=LABEL_SIZE, anchor="end", fill=TEXT)


def _suppressed(canvas: Canvas, x: float, y: float, label: str, **style: Any) -> None:
    canvas.text(x, y, label, italic=True, fill=SUPPRESSED_TEXT, **style)


# --------------------------------------------------------------------------- charts


def stacked_levels(
    segments: Sequence[Record],
    rows: Sequence[Record],
    levels: Sequence[str],
    colours: Sequence[str],
    *,
    label_lines: int,
) -> str:
    """100 % stacked bars, one per question, with a legend of the levels in 2 columns.

    segments: row_label, level_label, x0, x1 (exact shares, cumulative), pct_label (as
    printed), mid, text_colour, show_text; rows: row_label, n_label, suppressed_label
    (None when published). Rows keep the order given; row labels are already wrapped."""
    width = 460
    step = max(30, 14 * label_lines + 12)
    bar = step * BAND
    index = {r["row_label"]: i for i, r in enumerate(rows)}
    canvas = Canvas()
    _row_labels(canvas, [r["row_label"] for r in rows], step, limit=400)
    colour_of = dict(zip(levels, colours, strict=False))
    for s in segments:
        top = index[s["row_label"]] * step + (step - bar) / 2
        x0, x1 = s["x0"] * width, s["x1"] * width
        fill = colour_of.get(s["level_label"], OTHER_COLOUR)
        canvas.rect(x0, top, x1 - x0, bar, fill, stroke="#ffffff")
    for s in segments:
        if s["show_text"]:
            middle = (index[s["row_label"]] + 0.5) * step
            canvas.text(
                s["mid"] * width,
                middle,
                s["pct_label"],
                size=10,
                anchor="middle",
                bold=True,
                fill=s["text_colour"],
            )
    for i, r in enumerate(rows):
        middle = (i + 0.5) * step
        if r["suppressed_label"]:
            canvas.rect(0, middle - bar / 2, width, bar, SUPPRESSED_FILL)
            _suppressed(canvas, width / 2, middle, r["suppressed_label"], anchor="middle")
        canvas.text(width + LABEL_GAP, middle, r["n_label"], size=10, fill="#333")
    ticks = [(t * width, percent(t)) for t in PERCENT_TICKS]
    bottom = _x_axis(canvas, ticks, y=len(rows) * step, width=width)
    _legend_columns(canvas, list(zip(colours, levels, strict=False)), y=bottom + 18, columns=2)
    return canvas.svg()


def _scale(domain: tuple[float, float], width: float) -> Callable[[float], float]:
    low, high = domain
    return lambda value: (value - low) / (high - low) * width


def mean_intervals(
    records: Sequence[Record], *, scale_max: int, title: str, legend: bool = True
) -> str:
    """Mean maturity with its 95 % interval, one row per theme, most mature first.

    records: label, mean, ci_low, ci_high, mean_label, status (one of STATUSES),
    suppressed_label (None when published); in display order."""
    width, step = 420, 30
    x = _scale((1, scale_max), width)
    height = len(records) * step
    colour_of = dict(zip(STATUSES, STATUS_COLOURS, strict=True))
    canvas = Canvas()
    values = range(1, scale_max + 1)
    _grid(canvas, [x(v) for v in values], height)
    canvas.line(0, 0, 0, height, AXIS)
    _row_labels(canvas, [r["label"] for r in records], step, limit=300)
    for i, r in enumerate(records):
        middle = (i + 0.5) * step
        if r["suppressed_label"]:
            _suppressed(canvas, 4, middle, r["suppressed_label"], size=LABEL_SIZE)
            continue
        if r["mean"] is None:
            continue
        colour = colour_of.get(r["status"], OTHER_COLOUR)
        if r["ci_low"] is not None and r["ci_high"] is not None:
            canvas.line(x(r["ci_low"]), middle, x(r["ci_high"]), middle, colour, width=2)
        canvas.circle(x(r["mean"]), middle, 4.7, colour)
        canvas.text(x(r["mean"]), middle - 11, r["mean_label"], size=10, anchor="middle")
    bottom = _x_axis(canvas, [(x(v), str(v)) for v in values], y=height, width=width, title=title)
    if legend:
        entries = list(zip(STATUS_COLOURS, STATUSES, strict=True))
        _legend_row(canvas, entries, y=bottom + 16, shape="circle", size=10)
    return canvas.svg()


def group_shares(records: Sequence[Record]) -> str:
    """Share of the classified respondents in each maturity group and peloton sub-group
    (also: respondents per segment).

    records: label, share, pct_label, colour, suppressed_label; in display order."""
    width, step, bar = 420, 32, 20
    height = len(records) * step
    canvas = Canvas()
    _grid(canvas, [t * width for t in SHARE_TICKS], height)
    canvas.line(0, 0, 0, height, AXIS)
    _row_labels(canvas, [r["label"] for r in records], step, limit=260)
    for i, r in enumerate(records):
        middle = (i + 0.5) * step
        if r["suppressed_label"]:
            _suppressed(canvas, 4, middle, r["suppressed_label"], size=LABEL_SIZE)
            continue
        if r["share"] is None:
            continue
        end = r["share"] * width
        canvas.rect(0, middle - bar / 2, end, bar, r["colour"])
        canvas.text(end + 5, middle, r["pct_label"], size=LABEL_SIZE, bold=True)
    _x_axis(canvas, [(t * width, percent(t)) for t in SHARE_TICKS], y=height, width=width)
    return canvas.svg()


def edition_comparison(
    records: Sequence[Record], *, panels: Sequence[str], editions: Sequence[str]
) -> str:
    """Share of answers at stage ≥ 4 per theme, earlier and later edition side by side,
    one panel per column (all respondents | matched panel), themes' labels on the left.

    records: panel, theme, edition, share, pct_label, suppressed_label; themes in order."""
    width, bar, gap = 230, 11, 3
    themes = list(dict.fromkeys(r["theme"] for r in records))
    row = {theme: i for i, theme in enumerate(themes)}
    offset = {edition: i for i, edition in enumerate(editions)}
    step = (bar + gap) * len(editions) + 14
    height = len(themes) * step
    panel_left = {panel: i * (width + 36) for i, panel in enumerate(panels)}
    colour_of = dict(zip(editions, EDITION_COLOURS, strict=False))
    canvas = Canvas()
    ticks = [(t * width, percent(t)) for t in PERCENT_TICKS]
    for panel, left in panel_left.items():
        canvas.text(left + width / 2, -12, panel, size=12, anchor="middle", fill=TEXT)
        _grid(canvas, [left + x for x, _label in ticks], height)
    _row_labels(canvas, themes, step, limit=260)
    secrets: dict[tuple[str, str], str] = {}
    bars_top = (step - (bar + gap) * len(editions) + gap) / 2
    for r in records:
        if r["panel"] not in panel_left or r["edition"] not in offset:
            continue
        if r["suppressed_label"]:
            secrets.setdefault((r["panel"], r["theme"]), r["suppressed_label"])
            continue
        if r["share"] is None:
            continue
        top = row[r["theme"]] * step + bars_top + offset[r["edition"]] * (bar + gap)
        end, left = r["share"] * width, panel_left[r["panel"]]
        canvas.rect(left, top, end, bar, colour_of.get(r["edition"], OTHER_COLOUR))
        canvas.text(left + end + 3, top + bar / 2, r["pct_label"], size=9, fill=TEXT)
    for (panel, theme), label in secrets.items():
        middle = (row[theme] + 0.5) * step
        lines = wrap(label, 10, width - 8)
        _suppressed(canvas, panel_left[panel] + 4, middle, lines, size=10)
    bottom = 0.0
    for left in panel_left.values():
        bottom = _x_axis(
            canvas, ticks, y=height, width=width, left=left, title="réponses au stade ≥ 4"
        )
    entries = [(colour_of[e], e) for e in editions if e in colour_of]
    _legend_row(canvas, entries, y=bottom + 16, shape="square")
    return canvas.svg()
