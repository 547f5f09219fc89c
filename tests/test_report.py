"""`barometre report`: the edition's report, built from the published copy only.

Fast tests build a small published copy (the same `publish` the pipeline uses) from a
working file whose marts hold a few hand-written rows, and a canary in its restricted
schema; the slow test renders the bundled sample's report in a real headless Chromium.
"""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from barometre.common.settings import PROJECT_ROOT
from barometre.publish.publication import publish
from barometre.serve.report import queries
from barometre.serve.report.build import ReportError, build_report
from barometre.serve.report.page import SECRET, fr_points, pct_half_up, render_page

CANARY = "Métropole Canari"
"""A respondent name that exists only in the working file's restricted schema."""

LEVELS_2021 = [
    (1, "Le sujet n'est pas encore abordé", "NON_ABORDE"),
    (2, "Une réflexion est engagée", "REFLEXION"),
    (3, "Des orientations sont formalisées", "ORIENTATIONS"),
    (4, "La mise en œuvre est en cours", "MEO_EN_COURS"),
    (5, "La mise en œuvre est complète et effective", "MEO_COMPLETE"),
    (6, "La mise en œuvre est effective, et en amélioration continue", "AMELIORATION"),
]


def _create(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """CREATE TABLE from a list of dicts (column types from the first row's values)."""
    columns = list(rows[0])
    select = " UNION ALL ".join("SELECT " + ", ".join(f"? AS {c}" for c in columns) for _ in rows)
    params = [row[c] for row in rows for c in columns]
    con.execute(f"CREATE TABLE {table} AS {select}", params)


def _question(code: str, order: int, counts: list[int] | None, *, theme: str = "T01") -> dict:
    """A mart_question_distribution row from level counts (None: a suppressed question)."""
    n = sum(counts) if counts else 3
    row = {
        "edition_code": "2021",
        "question_code": code,
        "question_key": f"K_{code}",
        "theme_code": theme,
        "order_in_theme": order,
        "wording_fr": f"Nous disposons d'un dispositif {code} <b>testé</b>.",
        "wording_status": "reconstructed" if order == 2 else "published",
        "transverse_codes": "CRISE" if order == 1 else None,
        "n_respondents": n + 1,
        "n_answering": n,
        "n_not_concerned": 1,
        "n_no_answer": 0,
    }
    for level in range(1, 7):
        count = counts[level - 1] if counts else None
        row[f"share_level_{level}"] = count / n if counts else None
        row[f"pct_level_{level}"] = pct_half_up(count / n) if counts else None
    row["pct_sum"] = sum(row[f"pct_level_{lv}"] for lv in range(1, 7)) if counts else None
    ge4 = sum(counts[3:]) / n if counts else None
    row.update(
        share_stage_ge_4=ge4,
        pct_stage_ge_4=sum(row[f"pct_level_{lv}"] for lv in range(4, 7)) if counts else None,
        mean_level=2.5 if counts else None,
        is_suppressed=counts is None,
        suppression_reason=None if counts else "small_cell",
    )
    return row


def _maturity(theme: str, number: int, label: str, segment: tuple, mean: float | None, **kw):
    segment_type, segment_code, segment_label, order, n = segment
    suppressed = mean is None
    return {
        "edition_code": "2021",
        "theme_code": theme,
        "theme_number": number,
        "theme_label_fr": label,
        "segment_type": segment_type,
        "segment_code": segment_code,
        "segment_label_fr": segment_label,
        "segment_order": order,
        "n_respondents": n,
        "n_answers": n * 2,
        "mean_maturity": mean,
        "median_maturity": mean,
        "ci_low": None if suppressed else mean - 0.3,
        "ci_high": None if suppressed else mean + 0.3,
        "share_stage_ge_4": None if suppressed else 0.125,
        "share_respondents_mean_ge_4": None if suppressed else 0.25,
        "rank_in_edition": None if suppressed else kw.get("rank", 1),
        "n_ranked": None if suppressed else 2,
        "is_top_3": kw.get("top", False),
        "is_bottom_3": kw.get("bottom", False),
        "is_suppressed": suppressed,
        "suppression_reason": "complementary" if suppressed else None,
    }


ALL = ("ALL", "ALL", "Ensemble", 0, 12)
METRO = ("REPORT_GROUP", "METROPOLES", "Métropoles", 1, 9)
VILLES = ("REPORT_GROUP", "VILLES", "Villes", 3, 3)


def write_small_working(path: Path) -> Path:
    """A working file with the published tables (a few rows) and restricted data."""
    con = duckdb.connect(str(path))
    try:
        for schema in ("reference", "marts", "restricted"):
            con.execute(f"CREATE SCHEMA {schema}")
        _create(
            con,
            "reference.editions",
            [
                {
                    "edition_code": code,
                    "edition_year": year,
                    "edition_number": number,
                    "field_start": start,
                    "field_end": end,
                    "scale_size": size,
                    "theme_count": 2,
                    "label_fr": f"Baromètre {year}",
                }
                for code, year, number, start, end, size in (
                    ("2021", 2021, 2, "2020-11-01", "2021-01-31", 6),
                    ("2018", 2018, 1, "2018-01-01", "2018-12-31", 5),
                )
            ],
        )
        con.execute("UPDATE reference.editions SET field_start = CAST(field_start AS DATE)")
        _create(
            con,
            "reference.stages",
            [{"stage_code": s, "stage_order": lv, "label_fr": lb} for lv, lb, s in LEVELS_2021],
        )
        _create(
            con,
            "reference.scale_levels",
            [
                {"edition_code": "2021", "level": lv, "label_fr": lb, "stage_code": s}
                for lv, lb, s in LEVELS_2021
            ]
            + [
                {"edition_code": "2018", "level": lv, "label_fr": lb, "stage_code": s}
                for lv, lb, s in LEVELS_2021[:5]
            ],
        )
        _create(
            con,
            "reference.themes",
            [
                {
                    "edition_code": e,
                    "theme_code": code,
                    "theme_number": number,
                    "label_fr": label,
                    "description_fr": "la stratégie.",
                }
                for e in ("2018", "2021")
                for code, number, label in (("T01", 1, "Stratégie"), ("T02", 2, "Services"))
            ],
        )
        _create(
            con,
            "reference.transverse_themes",
            [{"transverse_code": "CRISE", "label_fr": "Gestion de crise", "description_fr": ""}],
        )
        _create(
            con,
            "marts.mart_question_distribution",
            [
                _question("T01_Q01", 1, [1, 2, 3, 2, 0, 0]),  # n = 8: 12.5 % rounds to 13
                _question("T01_Q02", 2, None),
                _question("T02_Q01", 1, [0, 0, 1, 3, 4, 4], theme="T02"),
            ],
        )
        _create(
            con,
            "marts.mart_theme_maturity",
            [
                _maturity("T01", 1, "Stratégie", ALL, 2.5, rank=2, bottom=True),
                _maturity("T02", 2, "Services", ALL, 4.25, rank=1, top=True),
                _maturity("T01", 1, "Stratégie", METRO, 2.75),
                _maturity("T01", 1, "Stratégie", VILLES, None),
                _maturity("T02", 2, "Services", METRO, 4.0),
                _maturity("T02", 2, "Services", VILLES, None),
            ],
        )
        transverse = _maturity("T01", 1, "x", ALL, 3.0)
        for key in ("theme_code", "theme_number", "theme_label_fr", "is_top_3", "is_bottom_3"):
            transverse.pop(key)
        _create(
            con,
            "marts.mart_transverse_maturity",
            [
                {
                    "transverse_code": "CRISE",
                    "transverse_label_fr": "Gestion de crise",
                    "n_questions": 1,
                    **transverse,
                }
            ],
        )
        groups = []
        for order, (level, code, parent, n, reason) in enumerate(
            (
                ("GROUP", "LEADERS", "ALL", None, "small_cell"),
                ("GROUP", "PELOTON", "ALL", 7, None),
                ("GROUP", "RETARDATAIRES", "ALL", None, "complementary"),
                ("SUBGROUP", "PELOTON_GENERALISTES", "PELOTON", None, "small_cell"),
                ("SUBGROUP", "PELOTON_SPECIALISTES", "PELOTON", None, "complementary"),
            ),
            1,
        ):
            groups.append(
                {
                    "edition_code": "2021",
                    "group_level": level,
                    "maturity_group_code": code,
                    "maturity_group_label_fr": code.title(),
                    "parent_group_code": parent,
                    "display_order": order,
                    "rule_fr": f"Règle publiée du groupe {code} (seuil 4.0)",
                    "n_classified_respondents": 12,
                    "n_respondents": n,
                    "share_respondents": n / 12 if n else None,
                    "pct_respondents": pct_half_up(n / 12) if n else None,
                    "share_of_parent_group": None,
                    "mean_general_maturity": 3.0 if n else None,
                    "mean_general_maturity_harmonised": 3.0 if n else None,
                    "is_suppressed": n is None,
                    "suppression_reason": reason,
                }
            )
        _create(con, "marts.mart_maturity_groups", groups)
        comparison = []
        for level, subject, theme, panel, suppressed in (
            ("THEME", "T01", "T01", "ALL", False),
            ("THEME", "T01", "T01", "MATCHED", True),
            ("QUESTION", "K_T01_Q01", "T01", "ALL", False),
            ("QUESTION", "K_T01_Q01", "T01", "MATCHED", False),
        ):
            comparison.append(
                {
                    "edition_code_from": "2018",
                    "edition_code_to": "2021",
                    "comparison_level": level,
                    "subject_code": subject,
                    "theme_code": theme,
                    "theme_label_fr": "Stratégie",
                    "question_key": subject if level == "QUESTION" else None,
                    "question_code_from": "T01_Q01" if level == "QUESTION" else None,
                    "question_code_to": "T01_Q01" if level == "QUESTION" else None,
                    "wording_fr": "Nous disposons d'un dispositif." if subject != theme else None,
                    "n_perimeter_questions": 1,
                    "panel_code": panel,
                    "n_respondents_from": 10,
                    "share_ge_4_from": None if suppressed else 0.2,
                    "pct_ge_4_from": None if suppressed else 20,
                    "mean_harmonised_from": None if suppressed else 2.5,
                    "n_respondents_to": 8,
                    "share_ge_4_to": None if suppressed else 0.25,
                    "pct_ge_4_to": None if suppressed else 25,
                    "mean_harmonised_to": None if suppressed else 2.7,
                    "diff_share_ge_4": None if suppressed else 0.05,
                    "diff_mean_harmonised": None if suppressed else 0.2,
                    "is_suppressed": suppressed,
                    "suppression_reason": "complementary" if suppressed else None,
                }
            )
        _create(con, "marts.mart_edition_comparison", comparison)
        con.execute(
            "CREATE TABLE restricted.mart_respondent_maturity AS "
            f"SELECT '200000001' AS respondent_id, '{CANARY}' AS name, 1.0 AS general_maturity"
        )
        con.execute(
            "CREATE TABLE reference.collectivities AS "
            f"SELECT '200000001' AS siren, '{CANARY}' AS name"
        )
    finally:
        con.close()
    return path


def revise_one_wording(working: Path, published_dir: Path) -> None:
    """One figure of 2021 changes (a question's wording becomes 'Libellé révisé') and the
    working warehouse is published again."""
    con = duckdb.connect(str(working))
    try:
        con.execute(
            "UPDATE marts.mart_question_distribution SET wording_fr = 'Libellé révisé' "
            "WHERE edition_code = '2021' AND question_code = 'T01_Q01'"
        )
    finally:
        con.close()
    publish(working, published_dir)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    working = write_small_working(folder / "working.duckdb")
    published_dir = folder / "published"
    publish(working, published_dir)
    return published_dir


@pytest.fixture(scope="module")
def data(published: Path) -> queries.ReportData:
    con = duckdb.connect(str(published / "barometre.duckdb"), read_only=True)
    try:
        return queries.load(con, "2021")
    finally:
        con.close()


class _Cells(HTMLParser):
    """Text of every <td> and <dd> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._open = False

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "dd"):
            self._open, self._text = True, ""

    def handle_data(self, data):
        if self._open:
            self._text += data

    def handle_endtag(self, tag):
        if tag in ("td", "dd") and self._open:
            self.cells.append(self._text.strip())
            self._open = False


# --------------------------------------------------------------------------- queries


def test_long_distribution_unpivots_every_level_of_the_scale(data: queries.ReportData) -> None:
    levels = {(r["question_code"], r["level"]): r for r in data.levels}
    assert len(levels) == 3 * 6
    q1 = [levels[("T01_Q01", lv)]["pct"] for lv in range(1, 7)]
    assert q1 == [13, 25, 38, 25, 0, 0]  # 1/8 = 12.5 % rounds half up, as printed
    assert levels[("T01_Q01", 1)]["share"] == pytest.approx(1 / 8)
    assert levels[("T01_Q01", 4)]["level_label_fr"] == "La mise en œuvre est en cours"
    # A suppressed question has no value on any level.
    assert all(levels[("T01_Q02", lv)]["pct"] is None for lv in range(1, 7))
    assert all(levels[("T01_Q02", lv)]["share"] is None for lv in range(1, 7))


def test_load_picks_the_previous_edition_by_year_and_refuses_unknown_ones(
    published: Path, data: queries.ReportData
) -> None:
    assert data.edition["edition_code"] == "2021"
    assert data.previous_edition["edition_code"] == "2018"
    assert {r["panel_code"] for r in data.comparison} == {"ALL", "MATCHED"}
    with pytest.raises(ReportError, match=r"'2030' is not in the published copy.*2018, 2021"):
        build_report(published, published.parent / "out-unknown", ["2030"])


def test_nothing_published_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"nothing is published.*barometre run"):
        build_report(tmp_path / "published", tmp_path / "out")


# --------------------------------------------------------------------------- the page


def test_page_shows_secret_statistique_and_never_a_blank_cell(
    data: queries.ReportData, monkeypatch: pytest.MonkeyPatch
) -> None:
    from barometre.serve.report import charts as charts_module

    drawn: list[tuple[str, tuple, str]] = []

    def recorded(name: str):
        real = getattr(charts_module, name)

        def recording(*args, **kwargs):
            svg = real(*args, **kwargs)
            drawn.append((name, args, svg))
            return svg

        return recording

    for name in ("stacked_levels", "mean_intervals", "group_shares", "edition_comparison"):
        monkeypatch.setattr(charts_module, name, recorded(name))
    page = render_page(data, min_cell_size=5)
    # overview, 2 themes, ranking + transverse, groups, comparison: each inlined as drawn
    assert len(drawn) == 7 and page.count("<svg ") == 7
    assert all(svg in page for _name, _args, svg in drawn)
    cells = _Cells()
    cells.feed(page)
    assert cells.cells and all(cells.cells), "a table cell or key figure is blank"
    # Suppressed question, theme cells, groups and comparison rows: written, with why.
    assert f"{SECRET} (moins de 5 répondants)" in page
    assert f"{SECRET} (secret complémentaire" in page
    by_group = page[page.index("Maturité moyenne par segment") : page.index('id="groupes"')]
    assert by_group.count(f'<td class="secret">{SECRET} (secret complémentaire') == 2  # VILLES
    # The stacked bars: the suppressed question is drawn as such, with no value.
    name, (segments, rows, *_rest), stacked = drawn[1]
    assert name == "stacked_levels"
    assert [r for r in rows if "Q2" in r["row_label"] and r["suppressed_label"]]
    assert segments and not [s for s in segments if "Q2" in s["row_label"]]
    assert SECRET in stacked and 'font-style="italic"' in stacked
    # Rounded as printed, n shown; wording escaped, reconstructed wording flagged.
    assert "13\u00a0%" in page and "n = 8" in stacked
    assert "&lt;b&gt;testé&lt;/b&gt;" in page and "<b>testé</b>" not in page
    assert "formulation reconstituée" in page
    # Ranking marks the top and bottom themes; the documented rule is the published one.
    assert "Top 3" in page and "Bottom 3" in page
    assert "Règle publiée du groupe LEADERS (seuil 4.0)" in page
    # Comparison: both panels, the caveat, the points difference.
    assert "Tous les répondants" in page and "Panel constant" in page
    assert "les panels diffèrent" in page
    assert "+5\u00a0pts" in page


def test_points_and_half_up_rounding() -> None:
    assert pct_half_up(0.125) == 13 and pct_half_up(0.145) == 15 and pct_half_up(0.0) == 0
    assert fr_points(0.05) == "+5\u00a0pts" and fr_points(-0.034) == "−3\u00a0pts"
    assert fr_points(0.001) == "0\u00a0pts" and fr_points(None) == "—"


# --------------------------------------------------------------------------- the site


def test_report_is_self_contained_and_built_from_the_published_copy_only(
    published: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    built = build_report(published, out)
    assert [b.edition for b in built] == ["2018", "2021"]
    page = (out / "2021" / "index.html").read_text(encoding="utf-8")
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="2021/index.html"' in index and 'href="2018/index.html"' in index
    # Real charts, inline SVG: one per figure.
    assert page.count("<svg ") == page.count('<figure class="chart"') == 7
    # Offline: no script, no external stylesheet, image or font; the only URLs are the
    # SVG namespaces.
    assert "<script" not in page and "<img" not in page and "@import" not in page
    assert "url(" not in page
    urls = set(re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>)]*", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert re.findall(r'(?:src|href)="([^"#][^"]*)"', page) == ["data:,"]
    # Text from the marts is escaped in the SVG too (the wording holds "<b>").
    assert "<b>" not in page and "&lt;b&gt;testé" in page
    # Disclosure control holds: the restricted schema and the respondents list of the
    # working file never reach the report.
    assert CANARY not in page and "200000001" not in page
    # The methodology quotes the thresholds in force (dbt vars).
    assert "± 1,96 écart-type" in page and "moins de 5 répondants" in page
    # The 2018 report: first edition, nothing to compare.
    page_2018 = (out / "2018" / "index.html").read_text(encoding="utf-8")
    assert "pas d'édition précédente" in page_2018


def test_an_edition_is_rendered_again_only_when_its_figures_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import barometre.serve.report.page as page_module

    working = write_small_working(tmp_path / "working.duckdb")
    published_dir, out = tmp_path / "published", tmp_path / "site"
    publish(working, published_dir)
    first = build_report(published_dir, out)
    assert [(b.edition, b.rendered) for b in first] == [("2018", True), ("2021", True)]
    pages = {e: (out / e / "index.html").read_text(encoding="utf-8") for e in ("2018", "2021")}
    assert (out / "2021" / ".figures.sha256").is_file()

    rendered: list[str] = []
    real_render = page_module.render_page

    def counting_render(data, **kwargs):
        rendered.append(data.edition["edition_code"])
        return real_render(data, **kwargs)

    monkeypatch.setattr(page_module, "render_page", counting_render)
    # A new publication of the same figures (a new version, as every run publishes):
    # nothing is rendered, the pages stay as they were.
    publish(working, published_dir)
    again = build_report(published_dir, out)
    assert rendered == [] and [b.rendered for b in again] == [False, False]
    assert again[0].publication != first[0].publication
    for edition, text in pages.items():
        assert (out / edition / "index.html").read_text(encoding="utf-8") == text
    assert 'href="2021/index.html"' in (out / "index.html").read_text(encoding="utf-8")

    # One figure of 2021 changes: 2021 is rendered again and shows it, 2018 is kept.
    revise_one_wording(working, published_dir)
    changed = build_report(published_dir, out)
    assert rendered == ["2021"]
    assert [(b.edition, b.rendered) for b in changed] == [("2018", False), ("2021", True)]
    assert "Libellé révisé" in (out / "2021" / "index.html").read_text(encoding="utf-8")
    assert (out / "2018" / "index.html").read_text(encoding="utf-8") == pages["2018"]

    # A page without its digest (or a lost page) is rendered again; so is every page
    # when forced.
    (out / "2018" / ".figures.sha256").unlink()
    build_report(published_dir, out)
    assert rendered == ["2021", "2018"]
    build_report(published_dir, out, force=True)
    assert rendered == ["2021", "2018", "2018", "2021"]


def test_cli_writes_the_report_where_asked(published: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli-out"
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("barometre")),
            "report",
            "--edition",
            "2021",
            "--out",
            str(out),
        ],
        env={"BAROMETRE_PUBLISHED_DIR": str(published), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (out / "2021" / "index.html").is_file() and not (out / "2018").exists()
    assert "Report of edition 2021" in result.stdout
    missing = subprocess.run(
        [str(Path(sys.executable).with_name("barometre")), "report", "--out", str(out)],
        env={"BAROMETRE_PUBLISHED_DIR": str(tmp_path / "none"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert missing.returncode == 1
    assert "error: nothing is published" in missing.stderr and "Traceback" not in missing.stderr


# --------------------------------------------------------------------------- Dagster


def test_report_asset_is_downstream_of_the_publication_and_in_the_transform_job() -> None:
    from dagster import AssetKey

    from barometre.definitions import defs

    graph = defs.resolve_asset_graph()
    report = graph.get(AssetKey("barometre_report"))
    assert report.parent_keys == {AssetKey("published_warehouse")}
    job = defs.resolve_job_def("transform")
    assert AssetKey("barometre_report") in job.asset_layer.selected_asset_keys


def test_report_asset_writes_every_published_edition(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import materialize

    from barometre.serve.report.asset import barometre_report

    monkeypatch.setenv("BAROMETRE_PUBLISHED_DIR", str(published))
    monkeypatch.setenv("BAROMETRE_REPORT_DIR", str(tmp_path / "asset-out"))
    result = materialize([barometre_report])
    assert result.success
    (materialization,) = result.asset_materializations_for_node("barometre_report")
    assert materialization.metadata["editions"].value == ["2018", "2021"]
    assert (tmp_path / "asset-out" / "2021" / "index.html").is_file()
    # Nothing published: the asset fails with the reason, no traceback in the description.
    monkeypatch.setenv("BAROMETRE_PUBLISHED_DIR", str(tmp_path / "none"))
    failed = materialize([barometre_report], raise_on_error=False)
    assert not failed.success
    [failure] = [e for e in failed.all_events if e.is_step_failure]
    description = failure.step_failure_data.user_failure_data.description
    assert "nothing is published" in description and "publication itself" in description


def test_code_location_does_not_import_the_report_modules() -> None:
    """Loading the code location (or the CLI) imports no module that builds the report:
    they are imported when the asset or the command runs."""
    probe = (
        "import sys; import barometre.definitions, barometre.serve.cli; "
        "print(sorted(m for m in sys.modules if m.startswith('barometre.serve.report.') "
        "and m.rsplit('.', 1)[1] in ('build', 'page', 'charts', 'svg', 'queries')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300
    )
    assert result.stdout.strip() == "[]", result.stdout


# --------------------------------------------------------------------------- browser


SECTION_CHARTS = """JSON.stringify(Object.fromEntries(
  [...document.querySelectorAll('section[id]')].map(
    s => [s.id, s.querySelectorAll(':scope figure.chart .svg > svg').length])))"""


@pytest.mark.slow
def test_sample_report_in_headless_chromium(sample_warehouse: Path, tmp_path: Path) -> None:
    """The bundled sample's report, opened in a real Chromium: no console error, no
    request but the page itself, the charts of every section rendered; a screenshot
    and the printed PDF are saved under build/ (look at them)."""
    import json

    from tests.browser import chromium_or_skip, inspect_page

    chromium_or_skip()
    published_dir = tmp_path / "published"
    publish(sample_warehouse, published_dir)
    out = tmp_path / "site"
    build_report(published_dir, out)
    shots = PROJECT_ROOT / "build"
    for edition in ("2021", "2018"):
        page = out / edition / "index.html"
        report = inspect_page(
            page,
            expression=SECTION_CHARTS,
            screenshot=shots / f"report-{edition}.png",
            pdf=shots / f"report-{edition}.pdf",
        )
        assert report.console_errors == [], report.console_errors
        assert report.requests == [page.resolve().as_uri()], report.requests
        charts = json.loads(report.evaluated)
        themes = [k for k in charts if k.startswith("theme-")]
        assert len(themes) == (10 if edition == "2021" else 9)
        assert all(charts[t] == 1 for t in themes), charts
        assert charts["apercu"] == 1 and charts["groupes"] == 1
        assert charts["classement"] == (2 if edition == "2021" else 1)  # transverse: 2021 on
        assert charts["comparaison"] == (1 if edition == "2021" else 0)
        assert charts["methodologie"] == 0
        assert report.screenshot.stat().st_size > 50_000
        assert report.pdf.read_bytes()[:5] == b"%PDF-"
    # The sample's 2018 groups have a small cell: shown as such in the page.
    assert SECRET in (out / "2018" / "index.html").read_text(encoding="utf-8")
