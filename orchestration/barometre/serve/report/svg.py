"""A small SVG writer for the report's charts: escaped text, rectangles, lines, circles,
multi-line text, and an estimate of a text's width in sans-serif.

The charts are drawn in Python (barometre.serve.report.charts) rather than by a
JavaScript engine: every input is already computed, so drawing is writing a few hundred
elements, milliseconds a chart. A `Canvas` collects the elements and the box they cover
(text by its estimated width), and writes an <svg> of exactly that box: nothing is
clipped, whatever the labels. The output references nothing but the SVG namespace, and
the same drawing gives the same bytes (coordinates are written rounded to 0.01).

Text widths are estimated with DejaVu Sans's advance widths (the sans-serif of most Linux
systems, and wider than Arial, Helvetica, Liberation Sans or Segoe UI), so the estimate
is an upper bound for the fonts a reader most likely has.
"""

from __future__ import annotations

import math
import unicodedata

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "sans-serif"
LINE_HEIGHT = 1.2
"""Distance between the baselines of a label's lines, in em."""
BASELINE_SHIFT = 0.35
"""From a line's vertical middle to its baseline, in em (centres digits and capitals)."""

# Advance widths of DejaVu Sans and DejaVu Sans Bold, in thousandths of an em, for the
# printable ASCII characters (32-126) in order; other characters below.
_ASCII = (
    "318,401,460,838,637,951,780,275,391,391,500,838,318,361,318,337,637,637,637,637,637,637,"
    "637,637,637,637,337,337,838,838,838,531,1000,685,687,699,771,632,576,775,752,295,295,656,"
    "558,863,749,788,604,788,695,635,611,732,685,989,686,611,686,391,337,391,838,500,500,613,"
    "635,550,635,616,353,635,634,278,278,580,278,975,634,612,635,635,412,521,393,634,592,818,"
    "592,592,525,637,337,637,838"
)
_ASCII_BOLD = (
    "349,457,521,838,696,1002,873,307,458,458,523,838,380,416,380,366,696,696,696,696,696,696,"
    "696,696,696,696,400,400,838,838,838,581,1000,774,763,734,831,684,684,821,837,373,373,775,"
    "638,996,837,851,733,851,771,721,683,813,774,1104,771,725,726,458,366,458,838,500,500,675,"
    "716,593,716,679,436,716,712,343,343,666,343,1042,712,688,716,716,494,596,479,712,652,924,"
    "646,652,583,712,366,712,838"
)
_OTHERS = "\u00a0\u202f«»°œŒ’‘“”–—…≥≤−·↳€"
_OTHERS_WIDTHS = (
    "318,200,612,612,500,982,1070,318,318,519,519,500,1000,1000,838,838,838,318,838,637"
)
_OTHERS_BOLD = "349,200,646,646,500,1048,1095,380,380,658,658,500,1000,1000,838,838,838,380,838,696"
_UNKNOWN = 1000
"""A character outside the tables (an accented letter counts as its base letter)."""


def _table(ascii_widths: str, others: str) -> dict[str, int]:
    widths = dict(zip(map(chr, range(32, 127)), map(int, ascii_widths.split(",")), strict=True))
    widths.update(zip(_OTHERS, map(int, others.split(",")), strict=True))
    return widths


_WIDTHS = {False: _table(_ASCII, _OTHERS_WIDTHS), True: _table(_ASCII_BOLD, _OTHERS_BOLD)}


def _char_width(char: str, table: dict[str, int]) -> int:
    width = table.get(char)
    if width is None:
        base = unicodedata.normalize("NFD", char)[:1]
        width = table.get(base, _UNKNOWN)
    return width


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The estimated width of one line of text in sans-serif at `size` px (see the
    module doc: an upper bound for common fonts). Italic is as wide as upright."""
    table = _WIDTHS[bold]
    return sum(_char_width(c, table) for c in text) * size / 1000


def truncate(text: str, size: float, limit: float, *, bold: bool = False) -> str:
    """The line cut with "…" so that its estimated width stays within `limit` px."""
    if text_width(text, size, bold=bold) <= limit:
        return text
    kept = text
    while kept and text_width(kept.rstrip() + "…", size, bold=bold) > limit:
        kept = kept[:-1]
    return kept.rstrip() + "…"


def wrap(text: str, size: float, limit: float, *, bold: bool = False) -> str:
    """The text broken into lines ("\\n") of at most `limit` px (estimated) at spaces; a
    word longer than that stays whole on its line."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and text_width(f"{lines[-1]} {word}", size, bold=bold) <= limit:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


def escape(text: str) -> str:
    """Text as SVG character data or an attribute value."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def num(value: float) -> str:
    """A coordinate as written: rounded to 0.01, no trailing zeros ("12.5", "3", "0")."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class Canvas:
    """The elements of one chart, in drawing order, and the box they cover."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.left = self.top = math.inf
        self.right = self.bottom = -math.inf

    def cover(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Extend the drawing's box (the SVG's size) to hold this one."""
        self.left, self.right = min(self.left, x0, x1), max(self.right, x0, x1)
        self.top, self.bottom = min(self.top, y0, y1), max(self.bottom, y0, y1)

    def rect(
        self,
        x: float,
        y: float,
        width: float,
        height: float,
        fill: str,
        *,
        stroke: str | None = None,
        stroke_width: float = 1,
    ) -> None:
        outline = f' stroke="{escape(stroke)}" stroke-width="{num(stroke_width)}"' if stroke else ""
        self.parts.append(
            f'<rect x="{num(x)}" y="{num(y)}" width="{num(max(width, 0))}" '
            f'height="{num(max(height, 0))}" fill="{escape(fill)}"{outline}/>'
        )
        self.cover(x, y, x + max(width, 0), y + max(height, 0))

    def line(
        self, x1: float, y1: float, x2: float, y2: float, stroke: str, *, width: float = 1
    ) -> None:
        self.parts.append(
            f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" '
            f'stroke="{escape(stroke)}" stroke-width="{num(width)}"/>'
        )
        self.cover(x1, y1, x2, y2)

    def circle(self, cx: float, cy: float, r: float, fill: str) -> None:
        self.parts.append(
            f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(r)}" fill="{escape(fill)}"/>'
        )
        self.cover(cx - r, cy - r, cx + r, cy + r)

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        size: float = 11,
        anchor: str = "start",
        bold: bool = False,
        italic: bool = False,
        fill: str = "#222",
    ) -> None:
        """A label whose lines ("\\n") are centred as a block on `y`, anchored at `x`
        (start, middle or end)."""
        if anchor not in ("start", "middle", "end"):
            raise ValueError(f"text anchor {anchor!r}: start, middle or end")
        lines = content.split("\n")
        step = size * LINE_HEIGHT
        first = y - step * (len(lines) - 1) / 2 + size * BASELINE_SHIFT
        style = (' font-weight="bold"' if bold else "") + (' font-style="italic"' if italic else "")
        head = (
            f'<text x="{num(x)}" y="{num(first)}" font-size="{num(size)}" '
            f'text-anchor="{anchor}" fill="{escape(fill)}"{style}>'
        )
        if len(lines) == 1:
            body = escape(lines[0])
        else:
            body = "".join(
                f'<tspan x="{num(x)}" y="{num(first + i * step)}">{escape(line)}</tspan>'
                for i, line in enumerate(lines)
            )
        self.parts.append(f"{head}{body}</text>")
        width = max(text_width(line, size, bold=bold) for line in lines)
        x0 = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        half = (step * (len(lines) - 1) + size * LINE_HEIGHT) / 2
        self.cover(x0, y - half, x0 + width, y + half)

    def svg(self, *, margin: float = 4) -> str:
        """The drawing as an <svg> sized to its box plus `margin` on every side, for the
        page to inline: a role for assistive technologies (the figure's caption and data
        table are its text alternative), a white background, sans-serif text."""
        if not self.parts:
            self.cover(0, 0, 1, 1)
        width = math.ceil(self.right - self.left + 2 * margin)
        height = math.ceil(self.bottom - self.top + 2 * margin)
        dx, dy = margin - self.left, margin - self.top
        return (
            f'<svg xmlns="{SVG_NS}" role="img" focusable="false" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" font-family="{FONT}">'
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>'
            f'<g transform="translate({num(dx)},{num(dy)})">{"".join(self.parts)}</g></svg>'
        )
