"""Adversarial proof of the disclosure control of the marts (docs/marts/disclosure-control.md).

The rule (issue 8 §4): no linear combination of up to MAX_CELLS published cells of one
table, edition and subject, with coefficients ±1, isolates between 1 and k − 1
respondents. Formally, each published cell is the membership vector (0/1 over the
respondents) of the respondents its figures aggregate; a combination Σ cᵢ·cellᵢ
(cᵢ = ±1) gives, for any additive figure (n × mean = sum, pooled counts, a group's
count), the sum of the respondents' figures weighted by their net coefficient. It
*isolates* the respondents whose net coefficient is non-zero; it discloses when they
are 1 … k − 1 (one of them: that respondent's value exactly, as the issue's example;
a few: their sum, or a difference among them).

This module does not re-implement the suppression: it SEARCHES every such combination
over the published cells of the built marts, with the memberships read independently
from the core facts and the restricted per-respondent marts, on the bundled sample and
on an adversarial sample built here (rare types, bands of 5 and 6, a band nearly equal
to a report group, an e-Education theme most agglomerations are not concerned by, an
edition pair whose panels nearly coincide), and expects to find none. The same search
over every cell, suppressed or not, must find some on the adversarial sample: the
search works and the sample attacks.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from collections.abc import Iterator
from itertools import combinations, product
from pathlib import Path

import duckdb
import pytest
import yaml

from barometre.common.settings import PROJECT_ROOT
from barometre.ingest.editions import discover_editions
from barometre.ingest.load import load_edition
from tests.conftest import run_dbt
from tests.factories import SEEDS, Response, write_limesurvey, write_surveymonkey

pytestmark = pytest.mark.slow

DBT_VARS = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]
K = DBT_VARS["min_cell_size"]
MAX_CELLS = DBT_VARS["disclosure_max_linked_cells"]

Cells = dict[str, frozenset[str]]
"""cell name → the respondents behind it, for the cells of one table × edition × subject"""


# --- the search ---------------------------------------------------------------------------


def disclosive_combinations(cells: Cells, k: int = K, max_cells: int = MAX_CELLS) -> list:
    """Every ±1 combination of up to `max_cells` of `cells` whose net support holds
    1 … k − 1 respondents, as (signed cell names, isolated respondents)."""
    found = []
    names = sorted(cells)
    for size in range(1, max_cells + 1):
        for chosen in combinations(names, size):
            # the first coefficient is +1: a combination and its negation isolate the same
            for signs in product((1, -1), repeat=size - 1):
                net: Counter[str] = Counter()
                for name, sign in zip(chosen, (1, *signs), strict=True):
                    for respondent in cells[name]:
                        net[respondent] += sign
                isolated = sorted(r for r, c in net.items() if c != 0)
                if 0 < len(isolated) < k:
                    terms = [
                        ("+" if s > 0 else "-") + n
                        for n, s in zip(chosen, (1, *signs), strict=True)
                    ]
                    found.append((terms, isolated))
    return found


def test_the_search_finds_the_issues_attack() -> None:
    """Bands 3 + 4 − métropoles, where the métropoles are the two bands but one member."""
    cells = {
        "ALL": frozenset("abcdefghijkl"),
        "POP_250K_500K": frozenset("abcd"),
        "POP_GE_500K": frozenset("efgh"),
        "METROPOLES": frozenset("abcdefg"),
    }
    found = disclosive_combinations(cells)
    assert (["+METROPOLES", "-POP_250K_500K", "-POP_GE_500K"], ["h"]) in found
    # ALL − bands alone isolates the 4 others; a combination of 5 respondents does not count
    assert (["+ALL", "-POP_250K_500K", "-POP_GE_500K"], sorted("ijkl")) in found
    assert disclosive_combinations({"A": frozenset("abcde"), "B": frozenset("fghij")}) == []


# --- the published tables and their memberships, read from the built warehouse -----------


def subject_tables(db: duckdb.DuckDBPyConnection, published_only: bool) -> Iterator[tuple]:
    """(table key, cells) for mart_theme_maturity and mart_transverse_maturity: per
    edition × subject, the segments; members = respondents with an answered question on
    the subject, by their group and band at that edition (core.dim_respondent_editions)."""
    segments: dict[tuple[str, str], set[str]] = {}
    for edition, respondent, group, band in db.execute(
        "select edition_code, respondent_id, report_group, population_band_code "
        "from core.dim_respondent_editions"
    ).fetchall():
        segments.setdefault((edition, "ALL:ALL"), set()).add(respondent)
        if group:
            segments.setdefault((edition, f"REPORT_GROUP:{group}"), set()).add(respondent)
        if band:
            segments.setdefault((edition, f"POPULATION_BAND:{band}"), set()).add(respondent)
    answering = {
        "THEME": """
            select edition_code, theme_code, respondent_id from core.fct_answers
            where answer_state = 'answered' group by all""",
        "TRANSVERSE": """
            select a.edition_code, b.transverse_code, a.respondent_id
            from core.fct_answers as a
            join core.bridge_question_transverse_themes as b
              on b.edition_code = a.edition_code and b.question_code = a.question_code
            where a.answer_state = 'answered' group by all""",
    }
    marts = {
        "THEME": ("mart_theme_maturity", "theme_code"),
        "TRANSVERSE": ("mart_transverse_maturity", "transverse_code"),
    }
    for subject_type, (mart, code) in marts.items():
        on_subject: dict[tuple[str, str], set[str]] = {}
        for edition, subject, respondent in db.execute(answering[subject_type]).fetchall():
            on_subject.setdefault((edition, subject), set()).add(respondent)
        tables: dict[tuple, Cells] = {}
        for edition, subject, seg_type, seg_code, suppressed in db.execute(
            f"select edition_code, {code}, segment_type, segment_code, is_suppressed "
            f"from marts.{mart}"
        ).fetchall():
            if suppressed and published_only:
                continue
            cell = f"{seg_type}:{seg_code}"
            members = segments[(edition, cell)] & on_subject[(edition, subject)]
            tables.setdefault((mart, edition, subject), {})[cell] = frozenset(members)
        yield from tables.items()


def group_tables(db: duckdb.DuckDBPyConnection, published_only: bool) -> Iterator[tuple]:
    """mart_maturity_groups per edition: the groups and sub-groups (members from the
    restricted per-respondent mart) and the classified total, whose count is always shown."""
    members: dict[tuple[str, str], set[str]] = {}
    for edition, respondent, group, subgroup in db.execute(
        "select edition_code, respondent_id, maturity_group, maturity_subgroup "
        "from restricted.mart_respondent_maturity where maturity_group is not null"
    ).fetchall():
        for cell in ("ALL", group, subgroup):
            if cell:
                members.setdefault((edition, cell), set()).add(respondent)
    tables: dict[tuple, Cells] = {}
    for edition, group, suppressed in db.execute(
        "select edition_code, maturity_group_code, is_suppressed from marts.mart_maturity_groups"
    ).fetchall():
        table = tables.setdefault(("mart_maturity_groups", edition), {})
        table["ALL"] = frozenset(members[(edition, "ALL")])
        if not (suppressed and published_only):
            table[group] = frozenset(members.get((edition, group), set()))
    yield from tables.items()


def comparison_tables(db: duckdb.DuckDBPyConnection, published_only: bool) -> Iterator[tuple]:
    """mart_edition_comparison per pair × level × subject × side: the panels ALL and
    MATCHED; members = respondents of that side's edition answering a perimeter question
    (the mart's QUESTION rows), restricted to those of both editions for MATCHED."""
    in_edition: dict[str, set[str]] = {}
    for edition, respondent in db.execute(
        "select edition_code, respondent_id from core.dim_respondent_editions"
    ).fetchall():
        in_edition.setdefault(edition, set()).add(respondent)
    answered: dict[tuple[str, str], set[str]] = {}
    for edition, question, respondent in db.execute(
        "select edition_code, question_code, respondent_id from core.fct_answers "
        "where answer_state = 'answered'"
    ).fetchall():
        answered.setdefault((edition, question), set()).add(respondent)
    questions = db.execute("""
        select edition_code_from, edition_code_to, question_key, theme_code,
               question_code_from, question_code_to
        from marts.mart_edition_comparison
        where comparison_level = 'QUESTION' and panel_code = 'ALL'""").fetchall()
    tables: dict[tuple, Cells] = {}
    for pair_from, pair_to, level, subject, panel, suppressed in db.execute("""
        select edition_code_from, edition_code_to, comparison_level, subject_code,
               panel_code, is_suppressed
        from marts.mart_edition_comparison""").fetchall():
        if suppressed and published_only:
            continue
        for side, edition in (("FROM", pair_from), ("TO", pair_to)):
            members: set[str] = set()
            for q_from, q_to, key, theme, code_from, code_to in questions:
                if (q_from, q_to) != (pair_from, pair_to):
                    continue
                if (level == "QUESTION" and key == subject) or (
                    level == "THEME" and theme == subject
                ):
                    members |= answered.get(
                        (edition, code_from if side == "FROM" else code_to), set()
                    )
            if panel == "MATCHED":
                members &= in_edition[pair_from] & in_edition[pair_to]
            key = ("mart_edition_comparison", pair_from, pair_to, level, subject, side)
            tables.setdefault(key, {})[panel] = frozenset(members)
    yield from tables.items()


def every_table(db: duckdb.DuckDBPyConnection, published_only: bool = True) -> list[tuple]:
    return [
        *subject_tables(db, published_only),
        *group_tables(db, published_only),
        *comparison_tables(db, published_only),
    ]


def assert_nothing_isolated(db: duckdb.DuckDBPyConnection) -> None:
    tables = every_table(db)
    assert {key[0] for key, _ in tables} == {
        "mart_theme_maturity",
        "mart_transverse_maturity",
        "mart_maturity_groups",
        "mart_edition_comparison",
    }
    found = {key: hits[:3] for key, cells in tables if (hits := disclosive_combinations(cells))}
    assert found == {}, f"published cells combine to isolate < {K} respondents: {found}"


# --- the bundled sample -------------------------------------------------------------------


def test_no_combination_of_published_cells_isolates_a_few_respondents_on_the_sample(
    sample_db,
) -> None:
    assert_nothing_isolated(sample_db)


def test_the_dbt_rule_fails_on_a_leaking_mart(sample_warehouse: Path, tmp_path: Path) -> None:
    """What the search proves is enforced by dbt, not by this module: on a copy of the
    sample where a published cell claims one respondent and another published cell states
    a suppression reason, the singular tests assert_marts_disclosure_control and
    assert_marts_suppression_reason_matches_state fail."""
    leaking = tmp_path / "leaking.duckdb"
    shutil.copyfile(sample_warehouse, leaking)
    con = duckdb.connect(str(leaking))
    try:
        con.execute("""
            update marts.mart_theme_maturity set n_respondents = 1
            where (edition_code, theme_code, segment_type, segment_code) = (
                select (edition_code, theme_code, segment_type, segment_code)
                from marts.mart_theme_maturity where not is_suppressed order by all limit 1)""")
        con.execute("""
            update marts.mart_question_distribution set suppression_reason = 'small_cell'
            where (edition_code, question_code) = (
                select (edition_code, question_code)
                from marts.mart_question_distribution where not is_suppressed
                order by all limit 1)""")
    finally:
        con.close()
    result = run_dbt(
        leaking,
        "test",
        "--select",
        "assert_marts_disclosure_control assert_marts_suppression_reason_matches_state",
    )
    assert result.returncode != 0, result.stdout
    for test in (
        "assert_marts_disclosure_control",
        "assert_marts_suppression_reason_matches_state",
    ):
        assert f"Failure in test {test}" in result.stdout, result.stdout


# --- the adversarial sample ---------------------------------------------------------------


def pick(type_code: str, low: int, high: int | None, count: int, skip: int = 0) -> list[str]:
    """`count` collectivities of the reference of a type and population range (by SIREN)."""
    with (SEEDS / "collectivities.csv").open(encoding="utf-8", newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: r["siren"])
    chosen = [
        r["name"]
        for r in rows
        if r["type_code"] == type_code
        and r["population"]
        and low <= int(r["population"]) < (high or 10**9)
    ][skip : skip + count]
    assert len(chosen) == count, (type_code, low, high, count)
    return chosen


def adversarial_respondents() -> list[tuple[str, str]]:
    """21 collectivities (name, type): POP_GE_500K is the métropoles but the one below
    500 000 plus one city of 500 000 or more (a band nearly equal to a report group);
    POP_250K_500K holds 5 and POP_100K_250K 6; one CU and the Métropole de Lyon are rare
    types; 3 small ones fill POP_LT_100K."""
    k = 1000
    return [
        *[(n, "METRO") for n in pick("METRO", 500 * k, None, 5)],
        *[(n, "MET69") for n in pick("MET69", 500 * k, None, 1)],
        *[(n, "COM") for n in pick("COM", 500 * k, None, 1)],
        *[(n, "METRO") for n in pick("METRO", 250 * k, 500 * k, 1)],
        *[(n, "CU") for n in pick("CU", 250 * k, 500 * k, 1)],
        *[(n, "CA") for n in pick("CA", 250 * k, 500 * k, 3)],
        *[(n, "CA") for n in pick("CA", 100 * k, 250 * k, 4)],
        *[(n, "COM") for n in pick("COM", 100 * k, 250 * k, 2)],
        *[(n, "COM") for n in pick("COM", 0, 100 * k, 2)],
        *[(n, "CA") for n in pick("CA", 0, 100 * k, 1)],
    ]


@pytest.fixture(scope="module")
def adversarial_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """Two editions of the adversarial panel, ingested and built by dbt (its tests, the
    singular disclosure test included, must pass). 2021: the 21 collectivities, the
    agglomerations not concerned by e-Education (T03); 2018: the first 17 of them and 2
    others, so the matched panel misses 2 of 2018 and 4 of 2021."""
    from tests.factories import limesurvey_header, seed_questions

    root = tmp_path_factory.mktemp("adversarial")
    panel = adversarial_respondents()
    t03 = [limesurvey_header(q) for q in seed_questions("2021") if q["theme_code"] == "T03"]
    responses_2021 = [
        Response(
            name,
            type_code,
            answer=f"A{1 + (i * 5 + 2) % 6}",
            overrides={h: "NC" for h in t03} if type_code in {"CA", "CU"} else {},
        )
        for i, (name, type_code) in enumerate(panel)
    ]
    write_limesurvey(root / "raw" / "2021", responses_2021)
    others = [(n, "CA") for n in pick("CA", 100 * 1000, 250 * 1000, 2, skip=10)]
    responses_2018 = [
        Response(name, answer=str(1 + (i * 3 + 1) % 5), submitted="03/02/2018 10:00:00 AM")
        for i, (name, _) in enumerate([*panel[:17], *others])
    ]
    write_surveymonkey(root / "raw" / "2018", responses_2018)
    warehouse = root / "adversarial.duckdb"
    for edition in discover_editions(root / "raw"):
        load_edition(root / "raw" / edition, warehouse, SEEDS)
    result = run_dbt(warehouse, "build", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con
    con.close()


def test_the_adversarial_sample_is_adversarial(adversarial_db) -> None:
    """Published without secondary suppression, its cells would isolate respondents; the
    marts suppress cells of every reason."""
    exposed = [
        key
        for key, cells in every_table(adversarial_db, published_only=False)
        if disclosive_combinations(cells)
    ]
    assert {key[0] for key in exposed} >= {"mart_theme_maturity", "mart_edition_comparison"}
    reasons = {
        r[0]
        for r in adversarial_db.execute(
            "select suppression_reason from marts.mart_theme_maturity where is_suppressed"
        ).fetchall()
    }
    assert reasons == {"small_cell", "complementary", "linked"}


def test_no_combination_of_published_cells_isolates_a_few_respondents_adversarially(
    adversarial_db,
) -> None:
    assert_nothing_isolated(adversarial_db)


def test_the_dbt_rule_finds_linked_cells_published_again(adversarial_db, tmp_path: Path) -> None:
    """Rule 6 of assert_marts_disclosure_control (linked cells, searched over the atoms of
    the respondents' segments) is enforced by dbt: on a copy of the adversarial warehouse
    whose cells suppressed as `linked` are published again (with the figures they hide
    still NULL, so that rules 1 and 2 say nothing of them), it fails and names a
    combination of published cells isolating respondents."""
    (path,) = adversarial_db.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    leaking = tmp_path / "linked.duckdb"
    shutil.copyfile(path, leaking)
    con = duckdb.connect(str(leaking))
    try:
        con.execute("""
            update marts.mart_theme_maturity set is_suppressed = false, suppression_reason = null
            where suppression_reason = 'linked'""")
    finally:
        con.close()
    result = run_dbt(
        leaking, "test", "--select", "assert_marts_disclosure_control", "--store-failures"
    )
    assert result.returncode != 0, result.stdout
    con = duckdb.connect(str(leaking), read_only=True)
    try:
        (audit,) = con.execute(
            "select table_schema from information_schema.tables "
            "where table_name = 'assert_marts_disclosure_control'"
        ).fetchone()
        problems = con.execute(
            f'select mart, problem from "{audit}".assert_marts_disclosure_control'
        ).fetchall()
    finally:
        con.close()
    assert any(
        mart == "mart_theme_maturity" and problem.startswith("published cells combine to isolate")
        for mart, problem in problems
    ), problems


def test_the_report_figures_for_all_respondents_stay_published(adversarial_db) -> None:
    assert (
        adversarial_db.execute(
            "select count(*) from marts.mart_theme_maturity "
            "where segment_type = 'ALL' and is_suppressed and n_respondents >= ?",
            [K],
        ).fetchone()[0]
        == 0
    )
