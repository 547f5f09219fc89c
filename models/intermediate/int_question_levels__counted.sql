-- Edition × question × level of the edition's scale: how many respondents answered the
-- question at that level, and the same as the report prints it. The one home of the
-- question-distribution counts: mart_question_distribution pivots them (one column per
-- level and stage), mart_question_level_distribution publishes them one row per level.
-- Every level of the scale has its row for every question with a cell in fct_answers,
-- with n_at_level = 0 when nobody chose it. n_answering counts answered cells only
-- ("not concerned" and "no answer" never enter a denominator); pct_at_level is
-- n_at_level / n_answering rounded half up to whole percent (macro round_half_up_pct),
-- NULL when nobody answered. No disclosure control here: the marts apply it (the
-- intermediate schema is never published).
-- A table, not a view: two marts read it (counted once on fct_answers, not twice).
{{ config(materialized='table') }}

with answers as (

    select * from {{ ref('fct_answers') }}

),

scale_levels as (

    select * from {{ ref('dim_scale_levels') }}

),

question_counts as (

    select
        edition_code,
        question_code,
        sum(case when answer_state = 'answered' then 1 else 0 end) as n_answering
    from answers
    group by edition_code, question_code

),

level_counts as (

    select
        edition_code,
        question_code,
        level,
        count(*) as n_at_level
    from answers
    where answer_state = 'answered'
    group by edition_code, question_code, level

),

question_levels as (

    select
        question_counts.edition_code,
        question_counts.question_code,
        question_counts.n_answering,
        scale_levels.level,
        scale_levels.stage_order,
        coalesce(level_counts.n_at_level, 0) as n_at_level
    from question_counts
    inner join scale_levels
        on question_counts.edition_code = scale_levels.edition_code
    left join level_counts
        on  question_counts.edition_code = level_counts.edition_code
        and question_counts.question_code = level_counts.question_code
        and scale_levels.level = level_counts.level

)

select
    question_levels.*,
    {{ round_half_up_pct('n_at_level', 'n_answering') }} as pct_at_level
from question_levels
