"""Every query of the report, over the PUBLISHED copy only (schemas marts and reference).

One home for the SQL, so that repointing the report at new marts (e.g. a long-format
distribution mart) is an edit of this module alone. Every ORDER BY is total: the same
figures come back in the same order, so their digest (report.build) only changes when
they do. Rows come back as plain dicts with
the marts' own column names; nothing here formats, rounds or draws.

Never query schemas raw, staging, core or restricted here: the published file does not
hold them, and the report inherits the marts' disclosure control only by reading marts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

Row = dict[str, Any]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[Row]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def editions(con: duckdb.DuckDBPyConnection) -> list[Row]:
    """Published editions, oldest first (ordered by year and number, never by code)."""
    return _rows(
        con,
        """
        SELECT edition_code, edition_year, edition_number, field_start, field_end,
               scale_size, theme_count, label_fr
        FROM reference.editions ORDER BY edition_year, edition_number, edition_code""",
    )


def scale_levels(con: duckdb.DuckDBPyConnection, edition: str) -> list[Row]:
    """The edition's answer scale: level, label and stage."""
    return _rows(
        con,
        """
        SELECT l.level, l.label_fr, l.stage_code, s.stage_order
        FROM reference.scale_levels l
        LEFT JOIN reference.stages s USING (stage_code)
        WHERE l.edition_code = ? ORDER BY l.level""",
        [edition],
    )


def stages(con: duckdb.DuckDBPyConnection) -> list[Row]:
    return _rows(con, "SELECT stage_code, stage_order, label_fr FROM reference.stages ORDER BY 2")


def themes(con: duckdb.DuckDBPyConnection, edition: str) -> list[Row]:
    return _rows(
        con,
        """
        SELECT theme_code, theme_number, label_fr, description_fr
        FROM reference.themes WHERE edition_code = ? ORDER BY theme_number, theme_code""",
        [edition],
    )


def transverse_themes(con: duckdb.DuckDBPyConnection) -> list[Row]:
    return _rows(
        con,
        "SELECT transverse_code, label_fr, description_fr FROM reference.transverse_themes "
        "ORDER BY transverse_code",
    )


def respondents_by_segment(con: duckdb.DuckDBPyConnection, edition: str) -> list[Row]:
    """Respondents per segment (ALL, report groups, population bands).

    The marts have no segment-size table: a segment's size is read as the largest cell
    size of the segment over the themes (every respondent answers the strategy theme,
    so this is the segment's size; e-Education's not-concerned answers make its cells
    smaller). Cell sizes are published even for suppressed cells (they say how many
    answered, not what)."""
    return _rows(
        con,
        """
        SELECT segment_type, segment_code, any_value(segment_label_fr) AS segment_label_fr,
               min(segment_order) AS segment_order, max(n_respondents) AS n_respondents
        FROM marts.mart_theme_maturity
        WHERE edition_code = ?
        GROUP BY segment_type, segment_code
        ORDER BY CASE segment_type WHEN 'ALL' THEN 0 WHEN 'REPORT_GROUP' THEN 1 ELSE 2 END,
                 segment_order, segment_code""",
        [edition],
    )


def question_distributions(con: duckdb.DuckDBPyConnection, edition: str) -> list[Row]:
    """One row per question: wording, counts, stage shares, disclosure flags."""
    return _rows(
        con,
        """
        SELECT question_code, question_key, theme_code, order_in_theme, wording_fr,
               wording_status, transverse_codes, n_respondents, n_answering,
               n_not_concerned, n_no_answer, pct_sum, pct_stage_ge_4, share_stage_ge_4,
               mean_level, is_suppressed, suppression_reason
        FROM marts.mart_question_distribution
        WHERE edition_code = ?
        ORDER BY theme_code, order_in_theme, question_code""",
        [edition],
    )


def level_distribution(con: duckdb.DuckDBPyConnection, edition: str) -> list[Row]:
    """Long format, one row per question × level of the edition's scale: the stacked bar.

    Unpivots the wide `pct_level_*`/`share_level_*` columns of
    mart_question_distribution (whatever their number). A suppressed question has
    NULL pct and share on every level. This is the query a long-format distribution
    mart will replace."""
    return _rows(
        con,
        """
        WITH wide AS (
            SELECT question_code, theme_code, COLUMNS('^(pct|share)_level_[0-9]+$')
            FROM marts.mart_question_distribution WHERE edition_code = ?
        ),
        long AS (
            UNPIVOT wide ON COLUMNS('^(pct|share)_level_[0-9]+$')
            INTO NAME measure VALUE value
        )
        SELECT q.question_code, q.theme_code, l.level, l.label_fr AS level_label_fr,
               l.stage_code,
               CAST(max(CASE WHEN long.measure = 'pct_level_' || l.level
                             THEN long.value END) AS INTEGER) AS pct,
               max(CASE WHEN long.measure = 'share_level_' || l.level
                        THEN long.value END) AS share
        FROM marts.mart_question_distribution q
        JOIN reference.scale_levels l ON l.edition_code = q.edition_code
        LEFT JOIN long ON long.question_code = q.question_code
        WHERE q.edition_code = ?
        GROUP BY ALL
        ORDER BY q.theme_code, q.question_code, l.level""",
        [edition, edition],
    )


_MATURITY_COLUMNS = """
    segment_type, segment_code, segment_label_fr, segment_order, n_respondents,
    n_answers, mean_maturity, median_maturity, ci_low, ci_high, share_stage_ge_4,
    share_respondents_mean_ge_4, rank_in_edition, n_ranked, is_suppressed,
    suppression_reason"""


def theme_maturity(con: duckdb.DuckDBPyConnection, edition: str) -> list[Row]:
    """Every theme × segment of the edition (ALL, report groups, population bands)."""
    return _rows(
        con,
        f"""
        SELECT theme_code, theme_number, theme_label_fr, {_MATURITY_COLUMNS},
               is_top_3, is_bottom_3
        FROM marts.mart_theme_maturity
        WHERE edition_code = ?
        ORDER BY theme_number, segment_type, segment_order, segment_code""",
        [edition],
    )


def transverse_maturity(con: duckdb.DuckDBPyConnection, edition: str) -> list[Row]:
    return _rows(
        con,
        f"""
        SELECT transverse_code, transverse_label_fr, n_questions, {_MATURITY_COLUMNS}
        FROM marts.mart_transverse_maturity
        WHERE edition_code = ?
        ORDER BY transverse_code, segment_type, segment_order, segment_code""",
        [edition],
    )


def maturity_groups(con: duckdb.DuckDBPyConnection, edition: str) -> list[Row]:
    return _rows(
        con,
        """
        SELECT group_level, maturity_group_code, maturity_group_label_fr, parent_group_code,
               display_order, rule_fr, n_classified_respondents, n_respondents,
               share_respondents, pct_respondents, share_of_parent_group,
               mean_general_maturity, mean_general_maturity_harmonised, is_suppressed,
               suppression_reason
        FROM marts.mart_maturity_groups
        WHERE edition_code = ?
        ORDER BY display_order""",
        [edition],
    )


def edition_comparison(
    con: duckdb.DuckDBPyConnection, edition_from: str, edition_to: str
) -> list[Row]:
    """Both panels (ALL, MATCHED), theme and question rows, earlier → later edition."""
    return _rows(
        con,
        """
        SELECT comparison_level, subject_code, theme_code, theme_label_fr, question_key,
               question_code_from, question_code_to, wording_fr, n_perimeter_questions,
               panel_code, n_respondents_from, share_ge_4_from, pct_ge_4_from,
               mean_harmonised_from, n_respondents_to, share_ge_4_to, pct_ge_4_to,
               mean_harmonised_to, diff_share_ge_4, diff_mean_harmonised, is_suppressed,
               suppression_reason
        FROM marts.mart_edition_comparison
        WHERE edition_code_from = ? AND edition_code_to = ?
        ORDER BY comparison_level DESC, theme_code, question_code_to, subject_code,
                 panel_code""",
        [edition_from, edition_to],
    )


def publication(con: duckdb.DuckDBPyConnection) -> Row:
    """Which publication the report is built from (meta.publication)."""
    rows = _rows(
        con, "SELECT version, CAST(published_at AS VARCHAR) AS published_at FROM meta.publication"
    )
    return rows[0] if rows else {"version": None, "published_at": None}


@dataclass
class ReportData:
    """Everything one edition's report shows, as read from the published copy."""

    edition: Row
    previous_edition: Row | None
    publication: Row
    scale: list[Row]
    themes: list[Row]
    transverse_themes: list[Row]
    segments: list[Row]
    questions: list[Row]
    levels: list[Row]
    theme_maturity: list[Row]
    transverse_maturity: list[Row]
    groups: list[Row]
    comparison: list[Row] = field(default_factory=list)


class ReportDataError(Exception):
    """The published copy cannot give this report (no such edition, nothing published)."""


def load(con: duckdb.DuckDBPyConnection, edition: str | None) -> ReportData:
    """Read one edition's report data (the latest published edition when None)."""
    published = editions(con)
    if not published:
        raise ReportDataError("the published copy holds no edition (reference.editions)")
    codes = [e["edition_code"] for e in published]
    if edition is None:
        edition = codes[-1]
    if edition not in codes:
        raise ReportDataError(
            f"edition {edition!r} is not in the published copy; published: {', '.join(codes)}"
        )
    index = codes.index(edition)
    previous = published[index - 1] if index > 0 else None
    return ReportData(
        edition=published[index],
        previous_edition=previous,
        publication=publication(con),
        scale=scale_levels(con, edition),
        themes=themes(con, edition),
        transverse_themes=transverse_themes(con),
        segments=respondents_by_segment(con, edition),
        questions=question_distributions(con, edition),
        levels=level_distribution(con, edition),
        theme_maturity=theme_maturity(con, edition),
        transverse_maturity=transverse_maturity(con, edition),
        groups=maturity_groups(con, edition),
        comparison=edition_comparison(con, previous["edition_code"], edition) if previous else [],
    )
