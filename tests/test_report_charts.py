"""The report's charts, drawn as SVG in Python (serve/report/charts.py and svg.py): each
kind is well-formed XML with one mark per published record, suppressed cells labelled,
text escaped, the same bytes for the same input, nothing outside its viewBox, and no
reference but the SVG namespace."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest
from defusedxml.ElementTree import fromstring

from barometre.serve.report import charts, svg
from barometre.serve.report.build import build_report
from tests.test_report import published  # noqa: F401 (fixture)

NS = {"s": svg.SVG_NS}
LEVELS = ["Le sujet n'est pas encore abordé", "Une réflexion est engagée", "C'est fait"]
COLOURS = ["#d7191c", "#ffffbf", "#2c7bb6"]
SECRET = "secret statistique (moins de 5 répondants)"
NASTY = "Q9 · <b>Forte & \"gras\"</b>\n'apostrophe'"
"""A label that must reach the reader as written."""
LONG = "\n".join(["Q1 · " + "W" * 53, "M" * 58, "m" * 58, "Ŵ" * 58])
"""Four wrapped lines of the widest letters (the page wraps at 58 characters)."""


def _stacked(label: str = "Q1 · Nous avons une stratégie") -> str:
    rows = [
        {"row_label": label, "n_label": "n = 30", "suppressed_label": None},
        {"row_label": "Q2 · Secrète", "n_label": "n = 3", "suppressed_label": SECRET},
        {"row_label": NASTY, "n_label": "n = 12", "suppressed_label": None},
    ]
    segments = []
    for row, shares in ((rows[0], (0.2, 0.5, 0.3)), (rows[2], (0.03, 0.47, 0.5))):
        x0 = 0.0
        for level, colour, share in zip(LEVELS, COLOURS, shares, strict=True):
            pct = round(share * 100)
            segments.append(
                {
                    "row_label": row["row_label"],
                    "level_label": level,
                    "x0": x0,
                    "x1": x0 + share,
                    "mid": x0 + share / 2,
                    "pct_label": f"{pct}\u00a0%",
                    "show_text": pct >= 5,
                    "text_colour": "#111111" if colour == "#ffffbf" else "#ffffff",
                }
            )
            x0 += share
    lines = max(r["row_label"].count("\n") + 1 for r in rows)
    return charts.stacked_levels(segments, rows, LEVELS, COLOURS, label_lines=lines)


def _means(label: str = "Cybersécurité", legend: bool = True) -> str:
    records = [
        {
            "label": label,
            "mean": 3.61,
            "ci_low": 3.2,
            "ci_high": 4.0,
            "mean_label": "3,61",
            "status": charts.STATUSES[0],
            "suppressed_label": None,
        },
        {
            "label": NASTY.replace("\n", " "),
            "mean": 2.5,
            "ci_low": 2.1,
            "ci_high": 2.9,
            "mean_label": "2,50",
            "status": charts.STATUSES[1],
            "suppressed_label": None,
        },
        {
            "label": "Thème secret",
            "mean": None,
            "ci_low": None,
            "ci_high": None,
            "mean_label": "secret statistique",
            "status": charts.STATUSES[2],
            "suppressed_label": SECRET,
        },
    ]
    return charts.mean_intervals(records, scale_max=6, title="maturité (1-6)", legend=legend)


def _groups(label: str = "Leaders") -> str:
    records = [
        {"label": label, "share": 0.15, "pct_label": "15\u00a0%", "colour": "#1a7f37"},
        {"label": "Peloton", "share": 1.0, "pct_label": "100\u00a0%", "colour": "#1d4e89"},
        {"label": NASTY.replace("\n", " "), "share": 0.0, "pct_label": "0\u00a0%"},
        {"label": "Retardataires", "share": None, "pct_label": "secret statistique"},
    ]
    for record, secret in zip(records, (None, None, None, SECRET), strict=True):
        record.setdefault("colour", "#b42318")
        record["suppressed_label"] = secret
    return charts.group_shares(records)


def _comparison(theme: str = "Cybersécurité") -> str:
    records = []
    for panel, secret in (("Tous les répondants", None), ("Panel constant", SECRET)):
        for subject, shares in ((theme, (0.4, 1.0)), (NASTY.replace("\n", " "), (0.05, 0.3))):
            for edition, share in zip(("2018", "2021"), shares, strict=True):
                suppressed = secret if subject == theme else None
                records.append(
                    {
                        "panel": panel,
                        "theme": subject,
                        "edition": edition,
                        "share": None if suppressed else share,
                        "pct_label": f"{round(share * 100)}\u00a0%",
                        "suppressed_label": suppressed,
                    }
                )
    return charts.edition_comparison(
        records, panels=["Tous les répondants", "Panel constant"], editions=["2018", "2021"]
    )


DRAWINGS = {
    "stacked_levels": _stacked,
    "mean_intervals": _means,
    "group_shares": _groups,
    "edition_comparison": _comparison,
}


def _texts(root: Element) -> list[str]:
    """Each <text>'s content as the reader sees it (tspans: one line each)."""
    return ["\n".join(t.itertext()) for t in root.iter(f"{{{svg.SVG_NS}}}text")]


def _marks(root: Element, tag: str, **attributes: str) -> list[Element]:
    return [
        e
        for e in root.iter(f"{{{svg.SVG_NS}}}{tag}")
        if all(e.get(k.replace("_", "-")) == v for k, v in attributes.items())
    ]


@pytest.mark.parametrize("kind", DRAWINGS)
def test_each_chart_is_an_accessible_self_contained_svg(kind: str) -> None:
    drawn = DRAWINGS[kind]()
    root = fromstring(drawn)
    assert root.tag == f"{{{svg.SVG_NS}}}svg"
    assert root.get("role") == "img" and root.get("focusable") == "false"
    width, height = int(root.get("width")), int(root.get("height"))
    assert root.get("viewBox") == f"0 0 {width} {height}" and width > 200 and height > 60
    assert root.get("font-family") == "sans-serif"
    # No reference but the namespace: no URL, link, image, script, style or font.
    assert re.findall(r"\w+://[^\s\"'<>]*", drawn) == [svg.SVG_NS]
    assert not re.search(r"href|<image|<script|<style|url\(|@import|<foreignObject", drawn)
    # Text from the marts reaches the reader as written, escaped in the markup.
    assert any(NASTY.replace("\n", " ") in t or NASTY in t for t in _texts(root))
    assert "<b>" not in drawn and "&lt;b&gt;" in drawn
    # Deterministic: the same input gives the same bytes.
    assert DRAWINGS[kind]() == drawn


def test_stacked_levels_draw_one_segment_per_share_and_the_suppressed_row() -> None:
    root = fromstring(_stacked())
    segments = _marks(root, "rect", stroke="#ffffff")
    assert [s.get("fill") for s in segments] == COLOURS * 2
    # the suppressed row: a grey bar across and its label in italics, no segment
    assert len(_marks(root, "rect", fill=charts.SUPPRESSED_FILL)) == 1
    assert [t.text for t in _marks(root, "text", font_style="italic")] == [SECRET]
    texts = _texts(root)
    # a share under 5 % is not labelled; the others are, as printed
    assert "3\u00a0%" not in texts and {"20\u00a0%", "50\u00a0%", "47\u00a0%"} <= set(texts)
    assert {"n = 30", "n = 3", "n = 12"} <= set(texts)
    assert {"0\u00a0%", "25\u00a0%", "50\u00a0%", "75\u00a0%", "100\u00a0%"} <= set(texts)
    assert set(LEVELS) <= set(texts)  # the legend
    # a row label's lines are tspans of one <text>
    assert NASTY in texts


def test_segments_stack_to_the_plot_width_in_order() -> None:
    root = fromstring(_stacked())
    first_row = _marks(root, "rect", stroke="#ffffff")[:3]
    xs = [(float(r.get("x")), float(r.get("width"))) for r in first_row]
    assert xs[0][0] == 0 and xs[1][0] == pytest.approx(xs[0][0] + xs[0][1])
    assert xs[2][0] + xs[2][1] == pytest.approx(460)


def test_mean_intervals_draw_a_point_and_interval_per_published_theme() -> None:
    root = fromstring(_means())
    points = _marks(root, "circle", r="4.7")
    assert [p.get("fill") for p in points] == [charts.TOP_COLOUR, charts.BOTTOM_COLOUR]
    intervals = _marks(root, "line", stroke_width="2")
    assert len(intervals) == 2
    assert [t.text for t in _marks(root, "text", font_style="italic")] == [SECRET]
    texts = _texts(root)
    assert {"3,61", "2,50", "maturité (1-6)", *map(str, range(1, 7))} <= set(texts)
    assert set(charts.STATUSES) <= set(texts)
    # the point sits at its mean on the 1-6 scale of 420 px, the interval around it
    assert float(points[0].get("cx")) == pytest.approx((3.61 - 1) / 5 * 420, abs=0.01)
    assert (
        float(intervals[0].get("x1")) < float(points[0].get("cx")) < float(intervals[0].get("x2"))
    )
    # the transverse themes' chart has no legend
    assert not set(charts.STATUSES) & set(_texts(fromstring(_means(legend=False))))


def test_group_shares_draw_one_bar_per_published_group() -> None:
    root = fromstring(_groups())
    bars = [r for r in _marks(root, "rect") if r.get("height") == "20"]
    assert [(b.get("fill"), b.get("width")) for b in bars] == [
        ("#1a7f37", "63"),
        ("#1d4e89", "420"),
        ("#b42318", "0"),
    ]
    assert [t.text for t in _marks(root, "text", font_style="italic")] == [SECRET]
    assert {"15\u00a0%", "100\u00a0%", "0\u00a0%", "Peloton"} <= set(_texts(root))


def test_edition_comparison_draws_one_bar_per_published_share_in_two_panels() -> None:
    root = fromstring(_comparison())
    bars = [r for r in _marks(root, "rect") if r.get("height") == "11"]
    # all respondents: 2 themes × 2 editions; the matched panel: the theme not suppressed
    assert [b.get("fill") for b in bars] == list(charts.EDITION_COLOURS) * 3
    panel = {float(b.get("x")) for b in bars}
    assert len(panel) == 2  # each panel's bars start at its own left
    # the suppressed theme's label, once, in its panel, wrapped to the panel's width
    (secret,) = _marks(root, "text", font_style="italic")
    assert "\n".join(secret.itertext()).replace("\n", " ") == SECRET
    assert float(secret.get("x")) > max(panel) - 1
    texts = _texts(root)
    assert {"Tous les répondants", "Panel constant", "2018", "2021"} <= set(texts)
    assert texts.count("réponses au stade ≥ 4") == 2


def _translation(root: Element) -> tuple[float, float]:
    group = root.find("s:g", NS)
    assert group is not None
    dx, dy = re.fullmatch(r"translate\(([-\d.]+),([-\d.]+)\)", group.get("transform")).groups()
    return float(dx), float(dy)


@pytest.mark.parametrize(
    "drawing",
    [
        lambda: _stacked(LONG),
        lambda: _means("W" * 80),
        lambda: _groups("W" * 80),
        lambda: _comparison("W" * 80),
    ],
    ids=list(DRAWINGS),
)
def test_long_labels_stay_inside_the_viewbox(drawing) -> None:
    root = fromstring(drawing())
    width = int(root.get("width"))
    dx, _dy = _translation(root)
    for text in root.iter(f"{{{svg.SVG_NS}}}text"):
        size = float(text.get("font-size"))
        bold = text.get("font-weight") == "bold"
        x = float(text.get("x")) + dx
        for line in [*text.itertext()] or [""]:
            span = svg.text_width(line, size, bold=bold)
            start = {"start": x, "middle": x - span / 2, "end": x - span}[text.get("text-anchor")]
            assert start >= 0 and start + span <= width, (line, start, span, width)
    # a label line longer than its room is cut with "…" (the data table has it whole)
    assert any(line.endswith("…") for t in _texts(root) for line in t.split("\n"))


def test_text_width_estimate() -> None:
    assert svg.text_width("", 11) == 0
    assert svg.text_width("0", 10) == pytest.approx(6.37)
    assert svg.text_width("WWW", 11) > svg.text_width("iii", 11)
    assert svg.text_width("Maturité", 11, bold=True) > svg.text_width("Maturité", 11)
    # accented letters count as their base letter; unknown characters as a full em
    assert svg.text_width("é", 10) == svg.text_width("e", 10)
    assert svg.text_width("漢", 10) == 10


def test_truncate_and_wrap_to_a_width() -> None:
    label = "Stratégie et gouvernance numériques"
    assert svg.truncate(label, 11, 1000) == label
    cut = svg.truncate(label, 11, 100)
    assert cut.endswith("…") and svg.text_width(cut, 11) <= 100
    wrapped = svg.wrap(SECRET, 10, 120)
    assert wrapped.replace("\n", " ") == SECRET
    assert all(svg.text_width(line, 10) <= 120 for line in wrapped.split("\n"))


def test_escape_and_numbers() -> None:
    assert svg.escape("<a & \"b\" 'c'>") == "&lt;a &amp; &quot;b&quot; &#39;c&#39;&gt;"
    assert [svg.num(v) for v in (0, -0.001, 12.5, 3.14159, 460.0)] == [
        "0",
        "0",
        "12.5",
        "3.14",
        "460",
    ]


def test_a_build_removes_the_chart_cache_of_earlier_versions(
    published: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    out = tmp_path / "site"
    (out / ".charts").mkdir(parents=True)
    (out / ".charts" / f"{'a' * 64}.svg").write_text("<svg></svg>")
    (out / "2021").mkdir()
    (out / "2021" / ".charts.sha256").write_text("a" * 64 + "\n")
    (out / "2017").mkdir()  # an edition no longer published: its leftover goes too
    (out / "2017" / ".charts.sha256").write_text("b" * 64 + "\n")
    built = build_report(published, out)
    assert [b.edition for b in built] == ["2018", "2021"]
    assert not (out / ".charts").exists()
    assert not list(out.glob("*/.charts.sha256"))
    assert (out / "2021" / "index.html").is_file() and (out / "2021" / ".figures.sha256").is_file()
