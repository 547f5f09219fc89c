"""The warehouse expectation suites, as data.

A suite is one relation of the warehouse (one GX query asset, one validation), the Dagster
asset it guards and a list of expectations. Everything edition-specific comes from the
warehouse's own reference tables (`reference.editions`: scale size, order of the
editions), read by `facts.py` into `WarehouseFacts`; no edition is named here. Mart
columns whose set depends on the data (`share_stage_*`, …) are read from the catalogue.

What lives here (docs/data-quality.md, "One home per rule"): statistical and property
expectations on the published tables — volumes, response rates, questionnaire coverage,
values on the edition's scale and within their range, known respondent types, drift
between editions. Not-null, accepted values, keys, relationships and the arithmetic of an
indicator (counts and shares adding up) are dbt's (contracts, data tests, singular tests);
they are not repeated here.

Custom rules are SQL (`UnexpectedRowsExpectation`: the query returns the offending rows,
`{batch}` is the suite's relation). Column rules (`between`) use the stock column
expectations. The SQL runs on every target (DuckDB, PostgreSQL 15): in a query with a
join `{batch}` takes an alias (`{batch} as b`; GX aliases it itself in a query without
one), doubles are cast to decimal before round() and back (`_rounded`), and a ratio of
counts divides a double (no integer division).

Severity: `error` (the default) means the numbers are wrong and downstream must not build
or publish; `warning` means "look at it" (drift between editions): it never blocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from barometre.validate.facts import WarehouseFacts

ERROR = "error"
WARNING = "warning"

# Below this share of respondents answering a question (answered or "not concerned"),
# the question's column was most likely mis-mapped in the manifest.
MIN_RESPONSE_RATE = 0.5
# Every report group (METROPOLES, AGGLOS_CU, VILLES) must have at least this many
# respondents in every loaded edition: a group at 0 means a load lost a whole type.
MIN_RESPONDENTS_PER_GROUP = 1
# Drift warning: a stage share of an identical question moving by more than this many
# points between an edition and the previous edition that asked it.
DRIFT_MAX_STAGE_GAP_POINTS = 25.0


@dataclass(frozen=True)
class Target:
    """Where a suite points: its relation, the Dagster asset it guards, its severity.

    Static (no warehouse needed), so the Dagster checks are defined without reading data.
    """

    suite: str
    relation: str
    asset_key: tuple[str, ...]
    severity: str
    check_name: str
    check_description: str


TARGETS: tuple[Target, ...] = (
    Target(
        "fct_answers",
        "core.fct_answers",
        ("core", "fct_answers"),
        ERROR,
        "gx_fct_answers",
        "Great Expectations: respondents per edition and report group, known types, "
        "response rate per question, questionnaire coverage, levels on each edition's scale.",
    ),
    Target(
        "mart_question_distribution",
        "marts.mart_question_distribution",
        ("marts", "mart_question_distribution"),
        ERROR,
        "gx_question_distribution",
        "Great Expectations: shares and percentages within 0–100 %, means on the edition's scale.",
    ),
    Target(
        "mart_question_distribution__drift",
        "marts.mart_question_distribution",
        ("marts", "mart_question_distribution"),
        WARNING,
        "gx_question_drift",
        "Great Expectations (warning only): stage shares of identical questions moving "
        "sharply between editions.",
    ),
    Target(
        "mart_theme_maturity",
        "marts.mart_theme_maturity",
        ("marts", "mart_theme_maturity"),
        ERROR,
        "gx_theme_maturity",
        "Great Expectations: theme means and medians on the edition's scale, shares "
        "within 0–100 %.",
    ),
    Target(
        "mart_transverse_maturity",
        "marts.mart_transverse_maturity",
        ("marts", "mart_transverse_maturity"),
        ERROR,
        "gx_transverse_maturity",
        "Great Expectations: transverse-theme means and medians on the edition's scale, "
        "shares within 0–100 %.",
    ),
    Target(
        "mart_respondent_theme_maturity",
        "restricted.mart_respondent_theme_maturity",
        ("restricted", "mart_respondent_theme_maturity"),
        ERROR,
        "gx_respondent_theme_maturity",
        "Great Expectations: each respondent's theme maturity on the edition's scale, one "
        "cell per question of the theme.",
    ),
)
TARGET_BY_SUITE = {t.suite: t for t in TARGETS}
SUITE_NAMES = tuple(t.suite for t in TARGETS)


def _where(suite: str) -> dict[str, Any]:
    t = TARGET_BY_SUITE[suite]
    return {
        "name": t.suite,
        "relation": t.relation,
        "asset_key": t.asset_key,
        "severity": t.severity,
    }


@dataclass(frozen=True)
class Expect:
    """One expectation: a GX expectation class name, its arguments, what it means."""

    id: str
    expectation: str
    kwargs: Mapping[str, Any]
    description: str
    severity: str = ERROR
    # only the rows where column == value (a GX row condition, evaluated in SQL)
    where: tuple[str, str] | None = None


@dataclass(frozen=True)
class Suite:
    """One relation validated in one GX validation; guards the Dagster asset `asset_key`."""

    name: str
    relation: str
    asset_key: tuple[str, ...]
    severity: str
    description: str
    expectations: tuple[Expect, ...]
    # relations the queries read besides `relation` (must exist for the suite to run)
    requires: tuple[str, ...] = ()

    @property
    def relations(self) -> tuple[str, ...]:
        return (self.relation, *self.requires)


def _unexpected(id_: str, description: str, query: str, severity: str = ERROR) -> Expect:
    """A SQL rule: `query` returns the offending rows of `{batch}`. GX substitutes `{batch}`
    with `(<relation query>)` when the query has a join (alias it yourself) and with
    `(<relation query>) AS subselect` otherwise (then never alias it)."""
    return Expect(
        id_,
        "UnexpectedRowsExpectation",
        {"unexpected_rows_query": " ".join(query.split())},
        description,
        severity,
    )


def _between(
    id_: str,
    column: str,
    low: float,
    high: float,
    description: str,
    where: tuple[str, str] | None = None,
) -> Expect:
    return Expect(
        id_,
        "ExpectColumnValuesToBeBetween",
        {"column": column, "min_value": low, "max_value": high},
        description,
        where=where,
    )


def _per_edition_scale(facts: WarehouseFacts, column: str, what: str) -> list[Expect]:
    """`column` within 1 … scale_size of each edition (one expectation per edition)."""
    return [
        _between(
            f"{column}_within_scale[{e.edition_code}]",
            column,
            1,
            e.scale_size,
            f"{what} of edition {e.edition_code} lies on its scale, 1…{e.scale_size} "
            "(reference.editions.scale_size).",
            where=("edition_code", e.edition_code),
        )
        for e in facts.editions
    ]


def _ranged_columns(columns: Sequence[str], high: float, what: str) -> list[Expect]:
    return [
        _between(
            f"{c}_within_0_{int(high)}",
            c,
            0,
            high,
            f"`{c}` is {what} within 0…{int(high)} (NULL when suppressed).",
        )
        for c in columns
    ]


def _rounded(expression: str, digits: int = 1) -> str:
    """`expression` rounded to `digits` decimals, as a double: rounded as a decimal (the
    same result on DuckDB and PostgreSQL), returned as a double because GX serialises
    every DECIMAL value of a result through a path that reads the call stack's source
    files (~0.1 s per value; docs/performance.md, "Session 7: P1")."""
    return f"cast(round(cast({expression} as decimal(18, 6)), {digits}) as double precision)"


# --- core.fct_answers -------------------------------------------------------------------


def fct_answers_suite(facts: WarehouseFacts) -> Suite:
    response_rate = (
        "1 - cast(sum(case when answer_state = 'no_answer' then 1 else 0 end) "
        "as double precision) / count(*)"
    )
    expectations = [
        Expect(
            "not_empty",
            "ExpectTableRowCountToBeBetween",
            {"min_value": 1},
            "The fact table has rows (a failed load leaves it empty).",
        ),
        *_per_edition_scale(facts, "level", "Every answered level"),
        _unexpected(
            "respondents_per_edition_and_group",
            f"Every loaded edition has at least {MIN_RESPONDENTS_PER_GROUP} respondent(s) in "
            "each report group (type at that edition, raw.responses → "
            "reference.collectivity_types): a group at zero means a load lost a whole type.",
            f"""with answering as (
                    select distinct edition_code, respondent_id from {{batch}} as b
                ),
                counts as (
                    select answering.edition_code, types.report_group,
                           count(distinct answering.respondent_id) as n_respondents
                    from answering
                    join raw.responses as responses
                      on responses.edition_code = answering.edition_code
                     and responses.respondent_id = answering.respondent_id
                    join reference.collectivity_types as types
                      on types.type_code = responses.type_code
                    group by answering.edition_code, types.report_group
                ),
                expected as (
                    select editions.edition_code, groups.report_group
                    from (select distinct edition_code from answering) as editions
                    cross join (select distinct report_group
                                from reference.collectivity_types) as groups
                )
                select expected.edition_code, expected.report_group,
                       coalesce(counts.n_respondents, 0) as n_respondents
                from expected
                left join counts
                  on counts.edition_code = expected.edition_code
                 and counts.report_group = expected.report_group
                where coalesce(counts.n_respondents, 0) < {MIN_RESPONDENTS_PER_GROUP}
                order by expected.edition_code, expected.report_group""",
        ),
        _unexpected(
            "respondents_have_a_known_type",
            "Every respondent of an edition has its kept response (raw.responses) with an "
            "official type (reference.collectivity_types).",
            """select answering.edition_code, answering.respondent_id, responses.type_code
               from (select distinct edition_code, respondent_id from {batch} as b) as answering
               left join raw.responses as responses
                 on responses.edition_code = answering.edition_code
                and responses.respondent_id = answering.respondent_id
               left join reference.collectivity_types as types
                 on types.type_code = responses.type_code
               where types.type_code is null
               order by answering.edition_code, answering.respondent_id""",
        ),
        _unexpected(
            "response_rate_per_question",
            f'Each question is answered (a level or "not concerned") by at least '
            f"{MIN_RESPONSE_RATE:.0%} of the edition's respondents; below, its export column "
            "is most likely mis-mapped.",
            f"""select edition_code, question_code, count(*) as n_respondents,
                       sum(case when answer_state = 'no_answer' then 1 else 0 end) as n_no_answer,
                       {_rounded(response_rate, 3)} as response_rate
                from {{batch}}
                group by edition_code, question_code
                having {response_rate} < {MIN_RESPONSE_RATE}
                order by response_rate, edition_code, question_code""",
        ),
        _unexpected(
            "questionnaire_coverage",
            "Each loaded edition has answers to every question of its questionnaire "
            "(reference.questions). An answer to a question outside it breaks the dbt "
            "relationship fct_answers → dim_questions.",
            """select questions.edition_code, questions.question_code
               from reference.questions as questions
               left join (select distinct edition_code, question_code from {batch} as b) as asked
                 on asked.edition_code = questions.edition_code
                and asked.question_code = questions.question_code
               where questions.edition_code in (select distinct edition_code from {batch} as b)
                 and asked.question_code is null
               order by questions.edition_code, questions.question_code""",
        ),
        _unexpected(
            "one_cell_per_question_and_respondent",
            "Each respondent has exactly one cell per question of its edition's questionnaire "
            "(answered, not concerned or no answer): no lost and no doubled cells.",
            """with expected as (
                   select edition_code, count(*) as n_questions
                   from reference.questions group by edition_code
               ),
               cells as (
                   select edition_code, respondent_id, count(*) as n_cells,
                          count(distinct question_code) as n_questions_answered
                   from {batch} as b group by edition_code, respondent_id
               )
               select cells.edition_code, cells.respondent_id, cells.n_cells,
                      expected.n_questions
               from cells
               left join expected on expected.edition_code = cells.edition_code
               where expected.n_questions is null
                  or cells.n_cells <> expected.n_questions
                  or cells.n_questions_answered <> expected.n_questions
               order by cells.edition_code, cells.respondent_id""",
        ),
    ]
    return Suite(
        **_where("fct_answers"),
        description="Answers: respondents per edition and group, response rates, "
        "questionnaire coverage, levels on the edition's scale.",
        expectations=tuple(expectations),
        requires=(
            "raw.responses",
            "reference.collectivity_types",
            "reference.questions",
            "reference.editions",
        ),
    )


# --- marts.mart_question_distribution -----------------------------------------------------


def question_distribution_suite(facts: WarehouseFacts) -> Suite:
    relation = TARGET_BY_SUITE["mart_question_distribution"].relation
    levels = range(1, facts.max_scale_size + 1)
    share_levels = [f"share_level_{lvl}" for lvl in levels]
    pct_levels = [f"pct_level_{lvl}" for lvl in levels]
    stage_shares = facts.columns_like(relation, "share_stage_")
    expectations = [
        Expect(
            "not_empty", "ExpectTableRowCountToBeBetween", {"min_value": 1}, "The mart has rows."
        ),
        *_ranged_columns(share_levels, 1, "an exact share of the answering respondents"),
        *_ranged_columns(pct_levels, 100, "a published percentage"),
        *_ranged_columns(stage_shares, 1, "an exact stage share"),
        *_per_edition_scale(facts, "mean_level", "The mean level of a question"),
    ]
    return Suite(
        **_where("mart_question_distribution"),
        description="Question distributions: shares and percentages within 0–100 %, "
        "means on the edition's scale.",
        expectations=tuple(expectations),
        requires=("reference.editions",),
    )


def question_drift_suite(facts: WarehouseFacts) -> Suite:
    relation = TARGET_BY_SUITE["mart_question_distribution__drift"].relation
    stage_shares = facts.columns_like(relation, "share_stage_")
    threshold = DRIFT_MAX_STAGE_GAP_POINTS / 100
    if stage_shares:
        lags = ", ".join(f"{c}, lag({c}) over w as previous_{c}" for c in stage_shares)
        gaps = " union all ".join(
            f"""select question_key, previous_edition_code, edition_code, question_code,
                       '{c}' as stage_share,
                       {_rounded(f"100 * previous_{c}")} as previous_pct,
                       {_rounded(f"100 * {c}")} as pct,
                       {_rounded(f"100 * abs({c} - previous_{c})")} as gap_points
                from pairs
                where abs({c} - previous_{c}) > {threshold}"""
            for c in stage_shares
        )
        query = f"""with ranked_editions as (
                        select edition_code,
                               row_number() over (order by edition_year, edition_number)
                                   as edition_rank
                        from reference.editions
                    ),
                    pairs as (
                        select b.question_key, b.edition_code, b.question_code,
                               lag(b.edition_code) over w as previous_edition_code, {lags}
                        from {{batch}} as b
                        join ranked_editions on ranked_editions.edition_code = b.edition_code
                        window w as (partition by b.question_key
                                     order by ranked_editions.edition_rank)
                    )
                    select * from ({gaps}) as gaps
                    order by gap_points desc, question_key, stage_share"""
    else:
        # no stage share column: make the expectation fail visibly rather than pass
        query = "select 'no share_stage_* column in the mart' as problem from {batch} limit 1"
    return Suite(
        **_where("mart_question_distribution__drift"),
        description="Drift between editions on identical questions (question_key): a "
        "warning to look at, never blocking.",
        expectations=(
            _unexpected(
                "stage_share_drift_between_editions",
                f"On an identical question (same question_key), no stage share moves by more "
                f"than {DRIFT_MAX_STAGE_GAP_POINTS:g} points from the previous edition that "
                "asked it. Stages compare a 5- and a 6-level scale. Real change is possible: "
                "this is a prompt to check the mapping of the question, not an error.",
                query,
                severity=WARNING,
            ),
        ),
        requires=("reference.editions",),
    )


# --- marts.mart_theme_maturity / mart_transverse_maturity ---------------------------------


def maturity_suite(facts: WarehouseFacts, table: str) -> Suite:
    relation = TARGET_BY_SUITE[table].relation
    shares = facts.columns_like(relation, "share_")
    expectations = [
        Expect(
            "not_empty", "ExpectTableRowCountToBeBetween", {"min_value": 1}, "The mart has rows."
        ),
        *_per_edition_scale(facts, "mean_maturity", "The mean maturity of a cell"),
        *_per_edition_scale(facts, "median_maturity", "The median maturity of a cell"),
        _between(
            "mean_score_0_100_within_0_100",
            "mean_score_0_100",
            0,
            100,
            "`mean_score_0_100` is within 0…100.",
        ),
        *_ranged_columns(shares, 1, "a share of respondents"),
    ]
    return Suite(
        **_where(table),
        description=f"{table}: means and medians on the edition's scale, shares within 0–100 %.",
        expectations=tuple(expectations),
        requires=("reference.editions",),
    )


# --- restricted.mart_respondent_theme_maturity --------------------------------------------


def respondent_theme_maturity_suite(facts: WarehouseFacts) -> Suite:
    expectations = [
        Expect(
            "not_empty", "ExpectTableRowCountToBeBetween", {"min_value": 1}, "The mart has rows."
        ),
        *_per_edition_scale(facts, "theme_maturity", "A respondent's theme maturity"),
        _unexpected(
            "cells_cover_the_theme",
            "Answered + not concerned + no answer = the number of questions of the theme "
            "in the edition (core.dim_themes.n_questions). Failing rows are counted per "
            "edition × theme, never listed per respondent: Data Docs and Dagster metadata "
            "must not carry restricted data.",
            """select b.edition_code, b.theme_code, count(*) as n_respondents,
                      min(themes.n_questions) as n_questions
               from {batch} as b
               left join core.dim_themes as themes
                 on themes.edition_code = b.edition_code
                and themes.theme_code = b.theme_code
               where themes.n_questions is null
                  or b.n_answered + b.n_not_concerned + b.n_no_answer <> themes.n_questions
               group by b.edition_code, b.theme_code
               order by b.edition_code, b.theme_code""",
        ),
    ]
    return Suite(
        **_where("mart_respondent_theme_maturity"),
        description="Per-respondent theme maturity: on the scale, one cell per question.",
        expectations=tuple(expectations),
        requires=("core.dim_themes", "reference.editions"),
    )


def build_suites(facts: WarehouseFacts) -> list[Suite]:
    """Every suite, in validation order."""
    return [
        fct_answers_suite(facts),
        question_distribution_suite(facts),
        question_drift_suite(facts),
        maturity_suite(facts, "mart_theme_maturity"),
        maturity_suite(facts, "mart_transverse_maturity"),
        respondent_theme_maturity_suite(facts),
    ]
