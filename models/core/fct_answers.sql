-- Grain: edition × respondent × question. One row per answer cell kept by the ingester,
-- including "no answer" and "not concerned" (kept and counted, never in a denominator).
-- Level-derived columns (stage, harmonised level, score, stage flags) come from
-- dim_scale_levels and are NULL when the cell is not answered.
with answers as (

    select * from {{ ref('stg_raw__answers') }}

),

questions as (

    select * from {{ ref('int_questions__keyed') }}

),

scale_levels as (

    select * from {{ ref('dim_scale_levels') }}

)

select
    answers.edition_code,
    answers.respondent_id,
    answers.question_code,
    questions.question_key,
    questions.theme_code,
    answers.answer_state,
    answers.level,
    case when answers.answer_state = 'answered' then true else false end as is_answered,
    scale_levels.stage_code,
    scale_levels.stage_order,
    scale_levels.harmonised_level as level_harmonised,
    scale_levels.score_0_100,
    -- the report's stages, on the stage order (shared by every edition)
    case when scale_levels.stage_order is not null then scale_levels.stage_order = 1 end as is_stage_eq_1,
    case when scale_levels.stage_order is not null then scale_levels.stage_order <= 2 end as is_stage_le_2,
    case when scale_levels.stage_order is not null then scale_levels.stage_order >= 3 end as is_stage_ge_3,
    case when scale_levels.stage_order is not null then scale_levels.stage_order >= 4 end as is_stage_ge_4,
    case when scale_levels.stage_order is not null then scale_levels.stage_order >= 5 end as is_stage_ge_5,
    case when scale_levels.stage_order is not null then scale_levels.stage_order = 6 end as is_stage_eq_6
from answers
left join questions
    on  answers.edition_code = questions.edition_code
    and answers.question_code = questions.question_code
left join scale_levels
    on  answers.edition_code = scale_levels.edition_code
    and answers.level = scale_levels.level
    and answers.answer_state = 'answered'
