"""The marts on the bundled sample: fidelity to the published 2021 report, the report's
sentences, the theme ranking and maturity groups, the edition comparison, disclosure
control and the marts' contracts.

Everything here reads the sample warehouse built once per session (`sample_db`, see
tests/conftest.py). Published figures come from data/reference/published_distributions_2021.csv
and, for its misprinted rows, from the closest achievable values documented in
docs/sample-data.md.
"""

from __future__ import annotations

import csv
import math
import re
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED_CSV = ROOT / "data" / "reference" / "published_distributions_2021.csv"
SAMPLE_DOC = ROOT / "docs" / "sample-data.md"
# one YAML per mart model beside its SQL, and the folder's _exposures.yml (CONTRIBUTING.md)
MARTS_DIR = ROOT / "models" / "marts"
RESTRICTED_DIR = MARTS_DIR / "restricted"
DBT_PROJECT_YML = ROOT / "dbt_project" / "dbt_project.yml"
MAX_RESPONDENTS = 34  # 2021 panel: a printed row is consistent if some n <= 34 reproduces it
LEVELS = range(1, 7)

pytestmark = pytest.mark.slow


# --- helpers ------------------------------------------------------------------------------


def dbt_var(name: str):
    return yaml.safe_load(DBT_PROJECT_YML.read_text(encoding="utf-8"))["vars"][name]


K = dbt_var("min_cell_size")


def round_half_up_pct(count: int, n: int) -> int:
    """100·count/n rounded half up, in exact integer arithmetic (the report's rounding)."""
    return (200 * count + n) // (2 * n)


def has_whole_count_solution(printed: tuple[int, ...], max_n: int = MAX_RESPONDENTS) -> bool:
    """True when some n <= max_n and whole counts per level reproduce every printed
    percentage (for n <= 100 each percentage admits at most one count)."""
    for n in range(1, max_n + 1):
        counts = []
        for pct in printed:
            match = [c for c in range(n + 1) if round_half_up_pct(c, n) == pct]
            if not match:
                break
            counts.append(match[0])
        else:
            if sum(counts) == n:
                return True
    return False


def published_rows() -> list[dict[str, str]]:
    with open(PUBLISHED_CSV, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def printed(row: dict[str, str]) -> tuple[int, ...]:
    return tuple(int(row[f"pct_level_{lvl}"]) for lvl in LEVELS)


def question_code(row: dict[str, str]) -> str:
    # matched on theme and order, never on wording (seeds/README.md: the T07 misprint)
    return f"{row['theme_code']}_Q{int(row['order_in_theme']):02d}"


CONSISTENT = [r for r in published_rows() if has_whole_count_solution(printed(r))]
MISPRINTS = [r for r in published_rows() if not has_whole_count_solution(printed(r))]


def documented_misprints() -> dict[str, tuple[int, tuple[int, ...]]]:
    """question_code → (n, achieved percentages) from the misprint table of
    docs/sample-data.md (| T07_Q01 | printed (sum) | n | counts | achieved | error |)."""
    if not SAMPLE_DOC.exists():
        return {}
    found = {}
    pattern = re.compile(
        r"^\|\s*(T\d\d_Q\d\d)\s*\|[^|]*\(\d+\)\s*\|\s*(\d+)\s*\|"  # code | printed (sum) | n |
        r"[\d /]+\|\s*([\d /]+?)\s*\|\s*\d+\s*\|"  # counts | achieved | error |
    )
    for line in SAMPLE_DOC.read_text(encoding="utf-8").splitlines():
        match = pattern.match(line)
        if match:
            achieved = tuple(int(x) for x in match.group(3).split("/"))
            found[match.group(1)] = (int(match.group(2)), achieved)
    return found


def question_row(db, edition: str, code: str) -> dict:
    cur = db.execute(
        "select * from marts.mart_question_distribution "
        "where edition_code = ? and question_code = ?",
        [edition, code],
    )
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, f"{edition} {code}: {len(rows)} rows"
    return dict(zip(names, rows[0], strict=True))


def mart_tables(db, schema: str = "marts") -> list[str]:
    return [
        r[0]
        for r in db.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1",
            [schema],
        ).fetchall()
    ]


# --- fidelity to the published distributions ----------------------------------------------


def test_published_rows_split_as_documented() -> None:
    # 35 printed rows: 27 reproducible with whole counts, 8 misprints (docs/sample-data.md)
    assert len(CONSISTENT) + len(MISPRINTS) == 35
    assert len(CONSISTENT) == 27


@pytest.mark.parametrize("row", CONSISTENT, ids=question_code)
def test_question_distribution_prints_the_published_percentages(sample_db, row) -> None:
    mart = question_row(sample_db, "2021", question_code(row))
    assert not mart["is_suppressed"]
    assert tuple(mart[f"pct_level_{lvl}"] for lvl in LEVELS) == printed(row)
    assert mart["pct_sum"] == int(row["pct_sum"])


@pytest.mark.parametrize("row", MISPRINTS, ids=question_code)
def test_misprinted_rows_give_the_documented_closest_values(sample_db, row) -> None:
    code = question_code(row)
    documented = documented_misprints()
    if code not in documented:
        pytest.skip(
            f"{code}: misprinted row (sum {row['pct_sum']}, no whole-count solution) "
            "and no closest values documented in docs/sample-data.md"
        )
    n, achieved = documented[code]
    mart = question_row(sample_db, "2021", code)
    assert mart["n_answering"] == n
    assert tuple(mart[f"pct_level_{lvl}"] for lvl in LEVELS) == achieved


def test_rounding_recomputed_from_the_facts(sample_db) -> None:
    """Every published percentage of every question and edition equals the integer
    half-up rounding of the counts in core.fct_answers."""
    counts = sample_db.execute("""
        select edition_code, question_code, level, count(*)
        from core.fct_answers where answer_state = 'answered'
        group by all""").fetchall()
    by_question: dict[tuple[str, str], dict[int, int]] = {}
    for edition, code, level, n in counts:
        by_question.setdefault((edition, code), {})[level] = n
    scale = dict(
        sample_db.execute("select edition_code, scale_size from core.dim_editions").fetchall()
    )
    rows = sample_db.execute("""
        select edition_code, question_code, n_answering, is_suppressed,
               pct_level_1, pct_level_2, pct_level_3, pct_level_4, pct_level_5, pct_level_6,
               share_stage_ge_4
        from marts.mart_question_distribution""").fetchall()
    assert len(rows) == len(by_question)
    for edition, code, n, suppressed, *rest in rows:
        levels = by_question[(edition, code)]
        assert n == sum(levels.values())
        if suppressed:
            continue
        expected = tuple(
            round_half_up_pct(levels.get(lvl, 0), n) if lvl <= scale[edition] else None
            for lvl in LEVELS
        )
        assert tuple(rest[:6]) == expected, (edition, code)
        ge4 = Fraction(sum(c for lvl, c in levels.items() if lvl >= 4), n)
        assert math.isclose(rest[6], float(ge4), abs_tol=1e-12)


# --- the report's sentences ---------------------------------------------------------------

# (question, column, expected, quote). pct_stage_* cumulate the rounded level
# percentages as the report does ("34 + 3 + 6 = 43 %"); share_stage_* are exact.
SENTENCES = [
    (
        "T04_Q01",
        "pct_stage_ge_4",
        43,
        "plus de 4 collectivités sur 10 mettent en œuvre des actions pour que toute "
        "expérimentation réussie fasse l'objet d'une pérennisation",
    ),
    (
        "T04_Q02",
        "pct_stage_ge_4",
        31,
        "seulement 1 sur 3 a mis en place un dispositif numérique de supervision du territoire",
    ),
    (
        "T04_Q06",
        "pct_stage_eq_1",
        44,
        "près de 45 % des collectivités n'ont à ce jour pas abordé la stratégie de "
        "développement de la coopération à l'échelle des « bassins de vie »",
    ),
    (
        "T04_Q06",
        "pct_stage_ge_4",
        15,
        "seules un peu plus de 15 % des collectivités ont mis en œuvre des actions à ce sujet",
    ),
    ("T04_Q08", "pct_level_2", 58, "réflexion sur les impacts … majoritairement engagée (58 %)"),
    (
        "T04_Q08",
        "pct_stage_ge_4",
        12,
        "mise en œuvre de projets et d'initiatives sur le territoire restant encore peu "
        "effective (12 %)",
    ),
    (
        "T07_Q05",
        "pct_stage_ge_4",
        72,
        "connaissance détaillée … mise en œuvre ou en cours de mise en œuvre pour plus de 72 %",
    ),
    (
        "T09_Q02",
        "pct_stage_ge_4",
        60,
        "la sécurité des systèmes d'information a été intégrée, pour 6 collectivités sur 10, "
        "dans une démarche et une gouvernance portée par l'exécutif",
    ),
    (
        "T09_Q05",
        "pct_stage_ge_5",
        28,
        "les dispositifs de PCA et PRA ont été mis en œuvre de manière complète dans uniquement 3 "
        "collectivités sur 10",
    ),
    (
        "T09_Q08",
        "pct_stage_ge_4",
        72,
        "près des trois quart des collectivités se sont appuyées sur le levier numérique pour "
        "contribuer aux PCA et PRA",
    ),
]


@pytest.mark.parametrize(
    ("code", "column", "expected", "quote"), SENTENCES, ids=[f"{s[0]}-{s[1]}" for s in SENTENCES]
)
def test_report_sentence_holds(sample_db, code, column, expected, quote) -> None:
    assert question_row(sample_db, "2021", code)[column] == expected, quote


def test_report_sentences_hold_on_exact_shares(sample_db) -> None:
    """The wording of the quotes ("plus de", "près de", "à peine") also holds on the exact
    shares, not only on the report's cumulated percentages."""

    def share(code: str, column: str) -> float:
        return question_row(sample_db, "2021", code)[column]

    assert share("T04_Q01", "share_stage_ge_4") > 0.40  # plus de 4 sur 10 (43.75 %)
    assert 0.40 <= share("T04_Q06", "share_stage_eq_1") < 0.45  # près de 45 % (43.75 %)
    assert share("T04_Q06", "share_stage_ge_4") > 0.15  # un peu plus de 15 % (15.6 %)
    assert share("T07_Q05", "share_stage_ge_4") > 0.72  # plus de 72 % (72.7 %)
    assert share("T09_Q03", "share_stage_ge_4") == pytest.approx(0.5)  # à peine la moitié
    assert share("T07_Q08", "share_stage_ge_4") > 0.5  # résilience: plus de la moitié


# --- theme ranking, groups ----------------------------------------------------------------


def test_theme_ranking_2021_is_the_reports(sample_db) -> None:
    rows = sample_db.execute("""
        select theme_code, rank_in_edition, is_top_3, is_bottom_3, mean_maturity
        from marts.mart_theme_maturity
        where edition_code = '2021' and segment_type = 'ALL'
        order by rank_in_edition""").fetchall()
    assert len(rows) == 10
    assert {r[0] for r in rows if r[2]} == {"T05", "T09", "T02"}
    assert {r[0] for r in rows if r[3]} == {"T04", "T01", "T10"}
    assert [r[0] for r in rows[:3]] == ["T05", "T09", "T02"]
    means = [r[4] for r in rows]
    assert means == sorted(means, reverse=True)


def test_theme_interval_recomputed(sample_db) -> None:
    """Mean, median and 95 % interval of one cell from the restricted per-respondent mart."""
    values = sorted(
        v
        for (v,) in sample_db.execute("""
        select theme_maturity from restricted.mart_respondent_theme_maturity
        where edition_code = '2021' and theme_code = 'T05'
          and theme_maturity is not null""").fetchall()
    )
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    median = (values[(n - 1) // 2] + values[n // 2]) / 2
    cell = sample_db.execute("""
        select n_respondents, mean_maturity, median_maturity, ci_low, ci_high
        from marts.mart_theme_maturity
        where edition_code = '2021' and theme_code = 'T05' and segment_type = 'ALL'""").fetchone()
    z = dbt_var("ci_z")
    assert cell[0] == n
    assert cell[1] == pytest.approx(mean)
    assert cell[2] == pytest.approx(median)
    assert cell[3] == pytest.approx(mean - z * sd / math.sqrt(n))
    assert cell[4] == pytest.approx(mean + z * sd / math.sqrt(n))


def test_maturity_groups_2021_about_15_60_25(sample_db) -> None:
    rows = dict(
        sample_db.execute("""
        select maturity_group_code, n_respondents from marts.mart_maturity_groups
        where edition_code = '2021' and group_level = 'GROUP'""").fetchall()
    )
    total = sample_db.execute("""
        select max(n_classified_respondents) from marts.mart_maturity_groups
        where edition_code = '2021'""").fetchone()[0]
    assert total == 34
    for group, share in (("LEADERS", 0.15), ("PELOTON", 0.60), ("RETARDATAIRES", 0.25)):
        assert rows[group] is not None, f"{group} suppressed"
        assert abs(rows[group] - share * total) <= 1, (group, rows[group])
    # the restricted per-respondent classification agrees with the published counts
    restricted = dict(
        sample_db.execute("""
        select maturity_group, count(*) from restricted.mart_respondent_maturity
        where edition_code = '2021' group by 1""").fetchall()
    )
    assert restricted == rows


def test_leaders_have_their_strategy_at_least_in_progress(sample_db) -> None:
    rows = sample_db.execute("""
        select strategy_maturity_harmonised, share_themes_implemented
        from restricted.mart_respondent_maturity where maturity_group = 'LEADERS'""").fetchall()
    assert rows
    for strategy, implemented in rows:
        assert strategy >= dbt_var("maturity_groups_leader_min_strategy")
        assert implemented >= dbt_var("maturity_groups_leader_min_implemented_share")


# --- core: harmonisation and respondent history -------------------------------------------


def test_levels_harmonised_to_five(sample_db) -> None:
    bad = sample_db.execute("""
        select a.edition_code, a.level, a.level_harmonised, count(*)
        from core.fct_answers as a
        where a.answer_state = 'answered'
          and a.level_harmonised <> case when a.level > 5 then 5 else a.level end
        group by all""").fetchall()
    assert bad == []
    assert sample_db.execute("""
        select count(*) from core.fct_answers
        where answer_state <> 'answered'
          and (level_harmonised is not null or score_0_100 is not null)
    """).fetchone() == (0,)


def test_name_and_type_history(sample_db) -> None:
    # "MEL" (2018) and the reference name resolve to one respondent
    lille = sample_db.execute("""
        select n_editions, n_name_variants, name_variants from core.dim_respondents
        where respondent_id = '200093201'""").fetchone()
    assert lille[0] == 2 and lille[1] >= 2 and "MEL" in lille[2]
    # Grand Besançon: a CA in 2018, a CU in 2021
    besancon = sample_db.execute("""
        select edition_code, type_code, is_type_changed from core.dim_respondent_editions
        where respondent_id = '242500361' order by edition_code""").fetchall()
    assert besancon == [("2018", "CA", False), ("2021", "CU", True)]


# --- edition comparison -------------------------------------------------------------------


def comparison(db, code_to: str, panel: str = "ALL") -> tuple:
    return db.execute(
        """
        select n_respondents_from, share_ge_4_from, n_respondents_to, share_ge_4_to, is_suppressed
        from marts.mart_edition_comparison
        where edition_code_from = '2018' and edition_code_to = '2021'
          and comparison_level = 'QUESTION' and question_code_to = ? and panel_code = ?""",
        [code_to, panel],
    ).fetchone()


def test_edition_comparison_quoted_movements(sample_db) -> None:
    # mobile work fully exploited: 51.3 % (20 of 39) → 85 %
    n_from, share_from, _n_to, share_to, _ = comparison(sample_db, "T05_Q02")
    assert n_from == 39 and share_from == pytest.approx(20 / 39)
    assert round(100 * share_to) == 85
    # innovation encouraged, implemented: 14 % → 28 %
    _, share_from, _, share_to, _ = comparison(sample_db, "T01_Q03")
    assert round(100 * share_from) == 14 and round(100 * share_to) == 28


def test_edition_comparison_perimeter_and_panels(sample_db) -> None:
    # only identical questions (question_key in both editions), each with both panels
    keys_both = {
        r[0]
        for r in sample_db.execute("""
        select question_key from core.dim_questions group by question_key
        having count(distinct edition_code) = 2""").fetchall()
    }
    rows = sample_db.execute("""
        select question_key, panel_code, n_respondents_from, n_respondents_to
        from marts.mart_edition_comparison where comparison_level = 'QUESTION'""").fetchall()
    assert {r[0] for r in rows} == keys_both
    assert len(rows) == 2 * len(keys_both)
    n_all = {(r[0]): (r[2], r[3]) for r in rows if r[1] == "ALL"}
    for key, panel, n_from, n_to in rows:
        if panel == "MATCHED":
            assert n_from <= n_all[key][0] and n_to <= n_all[key][1]
    # no theme new in 2021 (T10) on the perimeter
    themes = {
        r[0]
        for r in sample_db.execute("""
        select subject_code from marts.mart_edition_comparison where comparison_level = 'THEME'
    """).fetchall()
    }
    assert "T10" not in themes and "T05" in themes


# --- disclosure control -------------------------------------------------------------------
# The rules are dbt's (singular tests assert_marts_disclosure_control,
# assert_marts_expose_no_respondent_identifier, assert_marts_suppression_reason_matches_state,
# accepted values of suppression_reason), run by every dbt build, the sample's included.
# tests/test_disclosure.py proves them adversarially (it searches the published cells for
# combinations isolating respondents, and shows the dbt rule failing on a leaking mart);
# the tests here search the published values and check the sample exercises the rules.

MARTS = {
    "mart_question_distribution",
    "mart_question_level_distribution",
    "mart_theme_maturity",
    "mart_transverse_maturity",
    "mart_maturity_groups",
    "mart_edition_comparison",
}


def test_no_mart_value_names_a_respondent(sample_db) -> None:
    """No text cell of any mart equals a respondent's SIREN or any name it was known by
    (the identifying column names are dbt's test, which reads the catalogue)."""
    assert set(mart_tables(sample_db)) == MARTS
    columns = sample_db.execute("""
        select table_name, column_name, data_type from information_schema.columns
        where table_schema = 'marts'""").fetchall()
    identifiers = {
        r[0]
        for r in sample_db.execute(
            "select respondent_id from core.dim_respondents union "
            "select name from core.dim_respondents union "
            "select collectivity_name_exported from core.dim_respondent_editions"
        ).fetchall()
    }
    for table, column, data_type in columns:
        if data_type != "VARCHAR":
            continue
        values = {
            r[0]
            for r in sample_db.execute(
                f'select distinct "{column}" from marts."{table}"'
            ).fetchall()
        }
        assert not values & identifiers, (table, column)


def test_per_respondent_results_live_in_restricted_only(sample_db) -> None:
    assert set(mart_tables(sample_db, "restricted")) == {
        "mart_respondent_theme_maturity",
        "mart_respondent_maturity",
    }


def test_suppression_is_exercised_on_the_sample(sample_db) -> None:
    """The sample has small cells (2018 has 4 leaders), so the checks above are not
    vacuous: a small cell and its complementary cell are both nulled."""
    reasons = {
        r[0]
        for r in sample_db.execute("""
        select suppression_reason from marts.mart_maturity_groups where is_suppressed
        union select suppression_reason from marts.mart_theme_maturity where is_suppressed
        union select suppression_reason from marts.mart_edition_comparison where is_suppressed
    """).fetchall()
    }
    assert {"small_cell", "complementary"} <= reasons


# --- contracts and documentation ----------------------------------------------------------


def yml_entries(folder: Path, key: str) -> list[dict]:
    """The `key` entries (models, exposures…) of every YAML of a marts folder."""
    return [
        entry
        for path in sorted(folder.glob("*.yml"))
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")).get(key) or []
    ]


def yml_models(folder: Path) -> dict[str, dict]:
    return {m["name"]: m for m in yml_entries(folder, "models")}


@pytest.mark.parametrize(
    ("schema", "folder"), [("marts", MARTS_DIR), ("restricted", RESTRICTED_DIR)]
)
def test_marts_have_enforced_contracts_matching_the_tables(sample_db, schema, folder) -> None:
    models = yml_models(folder)
    assert set(models) == set(mart_tables(sample_db, schema))
    for name, model in models.items():
        assert model["config"]["contract"]["enforced"] is True, name
        assert model.get("description"), name
        declared = [c["name"] for c in model["columns"]]
        for column in model["columns"]:
            assert column.get("data_type"), (name, column["name"])
            assert column.get("description"), (name, column["name"])
        actual = [
            r[0]
            for r in sample_db.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, name],
            ).fetchall()
        ]
        assert sorted(actual) == sorted(declared), name


def test_every_mart_has_an_analyst_page_and_an_exposure() -> None:
    marts = yml_models(MARTS_DIR)
    exposures = yml_entries(MARTS_DIR, "exposures")
    exposed = {ref for e in exposures for ref in e["depends_on"]}
    for name in marts:
        assert (ROOT / "docs" / "marts" / f"{name}.md").is_file(), name
        assert f"ref('{name}')" in exposed, name


# --- long format and published descriptions -----------------------------------------------


def test_level_distribution_is_the_wide_mart_in_long_format(sample_db) -> None:
    """Every level of the edition's scale has its row; share and rounded percentage are
    the wide mart's for that level; counts add up to n_answering; suppression follows."""
    wide = sample_db.execute(
        "select count(*) from marts.mart_question_distribution as q "
        "join core.dim_scale_levels as s using (edition_code)"
    ).fetchone()[0]
    long = sample_db.execute(
        "select count(*) from marts.mart_question_level_distribution"
    ).fetchone()[0]
    assert long == wide
    cases = (
        " ".join(f"when {lv} then q.share_level_{lv}" for lv in LEVELS),
        " ".join(f"when {lv} then q.pct_level_{lv}" for lv in LEVELS),
    )
    mismatches = sample_db.execute(f"""
        select l.edition_code, l.question_code, l.level
        from marts.mart_question_level_distribution as l
        join marts.mart_question_distribution as q using (edition_code, question_code)
        where l.share_at_level is distinct from (case l.level {cases[0]} end)
           or l.pct_at_level is distinct from (case l.level {cases[1]} end)
           or l.is_suppressed <> q.is_suppressed
           or l.suppression_reason is distinct from q.suppression_reason
           or l.n_answering <> q.n_answering
    """).fetchall()
    assert mismatches == []
    sums = sample_db.execute("""
        select count(*) from (
            select edition_code, question_code, max(n_answering) as n, sum(n_at_level) as total
            from marts.mart_question_level_distribution where not is_suppressed
            group by all) where n <> total
    """).fetchone()[0]
    assert sums == 0
    # the stacked bar of theme 4, 2021: T04_Q01 as the report prints it (34 % at level 4)
    bar = dict(
        sample_db.execute("""
            select level, pct_at_level from marts.mart_question_level_distribution
            where edition_code = '2021' and theme_code = 'T04' and question_code = 'T04_Q01'
        """).fetchall()
    )
    assert bar[4] == 34 and bar[5] + bar[6] + bar[4] == 43


def test_published_file_carries_the_dbt_descriptions(sample_warehouse, tmp_path) -> None:
    """persist_docs writes the YAML descriptions as comments; publish carries them over."""
    import duckdb

    from barometre.publish.publication import publish

    described = yml_models(MARTS_DIR)["mart_question_level_distribution"]
    column = {c["name"]: c for c in described["columns"]}["pct_at_level"]
    version = publish(sample_warehouse, tmp_path / "published")
    con = duckdb.connect(str(version.path), read_only=True)
    try:
        (table_comment,) = con.execute(
            "select comment from duckdb_tables() where schema_name = 'marts' "
            "and table_name = 'mart_question_level_distribution'"
        ).fetchone()
        (column_comment,) = con.execute(
            "select comment from duckdb_columns() where schema_name = 'marts' and "
            "table_name = 'mart_question_level_distribution' and column_name = 'pct_at_level'"
        ).fetchone()
        undescribed = con.execute("""
            select table_name, column_name from duckdb_columns()
            where schema_name = 'marts' and (comment is null or comment = '')""").fetchall()
        (lookup_comment,) = con.execute(
            "select comment from duckdb_tables() where schema_name = 'reference' "
            "and table_name = 'editions'"
        ).fetchone()
    finally:
        con.close()
    assert table_comment.strip() == described["description"].strip()
    assert column_comment == column["description"]
    assert undescribed == []
    assert lookup_comment
