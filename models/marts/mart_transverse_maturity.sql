-- Edition × transverse theme × segment: maturity of the respondents on the questions
-- tagged with the transverse theme (RESP, CRISE, COOP; bridge_question_transverse_themes).
-- A respondent's transverse maturity is the mean of its answered levels on the tagged
-- questions. Same segments, formulas and disclosure control as mart_theme_maturity;
-- rank_in_edition orders the transverse themes of the edition and segment (no top/bottom
-- 3: there are three of them). Editions without tags (2018) have no row.
with cells as (

    select * from {{ ref('int_subject_maturity__segmented') }}
    where subject_type = 'TRANSVERSE'

),

transverse_themes as (

    select * from {{ ref('dim_transverse_themes') }}

),

tagged_questions as (

    select
        edition_code,
        transverse_code,
        count(*) as n_questions
    from {{ ref('bridge_question_transverse_themes') }}
    group by edition_code, transverse_code

),

editions as (

    select * from {{ ref('dim_editions') }}

)

select
    cells.edition_code,
    cells.subject_code as transverse_code,
    transverse_themes.label_fr as transverse_label_fr,
    cast(tagged_questions.n_questions as {{ dbt.type_int() }}) as n_questions,
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
    cells.is_suppressed,
    cells.suppression_reason,
    -- labels for the BI tools (appended: the columns above keep their order and values)
    {{ segment_label_columns('cells', 'editions') }}
from cells
left join transverse_themes
    on cells.subject_code = transverse_themes.transverse_code
left join tagged_questions
    on  cells.edition_code = tagged_questions.edition_code
    and cells.subject_code = tagged_questions.transverse_code
left join editions
    on cells.edition_code = editions.edition_code
