-- Edition × theme × segment: maturity of the respondents on the theme. A respondent's
-- theme maturity is the mean of its answered levels on the theme; the cell aggregates
-- the respondents of the segment who answered at least one question of the theme.
-- Segments: ALL; REPORT_GROUP (METROPOLES, AGGLOS_CU, VILLES, by the type at that
-- edition); POPULATION_BAND (seed population_bands). Ranks: themes ordered by
-- mean_maturity within the edition and segment (1 = most mature); top 3 / bottom 3.
-- Disclosure control and every formula: int_subject_maturity__segmented,
-- docs/marts/mart_theme_maturity.md.
with cells as (

    select * from {{ ref('int_subject_maturity__segmented') }}
    where subject_type = 'THEME'

),

themes as (

    select * from {{ ref('dim_themes') }}

),

editions as (

    select * from {{ ref('dim_editions') }}

)

select
    cells.edition_code,
    cells.subject_code as theme_code,
    themes.theme_number,
    themes.label_fr as theme_label_fr,
    cells.segment_type,
    cells.segment_code,
    cells.segment_label_fr,
    cells.segment_order,
    cells.n_respondents,
    cells.n_answers,
    cells.mean_maturity,
    cells.median_maturity,
    cells.sd_maturity,
    cells.ci_low,
    cells.ci_high,
    cells.mean_maturity_harmonised,
    cells.mean_score_0_100,
    cells.share_stage_eq_1,
    cells.share_stage_le_2,
    cells.share_stage_ge_3,
    cells.share_stage_ge_4,
    cells.share_stage_ge_5,
    cells.share_stage_eq_6,
    cells.share_respondents_mean_ge_3,
    cells.share_respondents_mean_ge_4,
    cells.rank_in_edition,
    cells.n_ranked,
    cells.is_top_3,
    cells.is_bottom_3,
    cells.is_suppressed,
    cells.suppression_reason,
    -- labels for the BI tools (appended: the columns above keep their order and values)
    {{ segment_label_columns('cells', 'editions') }}
from cells
left join themes
    on  cells.edition_code = themes.edition_code
    and cells.subject_code = themes.theme_code
left join editions
    on cells.edition_code = editions.edition_code
