-- Grain: edition × respondent × question. One row per answer cell kept by the ingester,
-- including "no answer" and "not concerned" (kept and counted, never in a denominator).
-- Level-derived columns (stage, harmonised level, score, stage flags) come from
-- dim_scale_levels and are NULL when the cell is not answered.
-- Incremental by edition (macros/edition_incremental.sql): a build replaces only the
-- editions whose load, questions or scale changed since the last one; --full-refresh
-- rebuilds all. Marts are rebuilt from this table on every build.
{{ config(
    materialized='incremental',
    incremental_strategy=edition_incremental_strategy(),
    unique_key='edition_code',
    partition_by=edition_partition_by(),
    on_schema_change='sync_all_columns',
    post_hook=["{{ delete_unloaded_editions() }}"]
) }}

with answers as (

    select * from {{ ref('stg_raw__answers') }}

),

questions as (

    select * from {{ ref('int_questions__keyed') }}

),

scale_levels as (

    select * from {{ ref('dim_scale_levels') }}

),

-- what an edition's rows are computed from, digested into its build mark
question_digests as (

    {{ edition_digest(ref('int_questions__keyed'), ['question_code', 'question_key', 'theme_code'], 'question_code') }}

),

scale_digests as (

    {{ edition_digest(ref('dim_scale_levels'),
        ['level', 'stage_code', 'stage_order', 'harmonised_level', 'score_0_100'], 'level') }}

),

marks as (

    {{ edition_build_marks(['question_digests', 'scale_digests']) }}

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
    case when scale_levels.stage_order is not null then scale_levels.stage_order = 6 end as is_stage_eq_6,
    marks.edition_build_mark
from answers
left join questions
    on  answers.edition_code = questions.edition_code
    and answers.question_code = questions.question_code
left join scale_levels
    on  answers.edition_code = scale_levels.edition_code
    and answers.level = scale_levels.level
    and answers.answer_state = 'answered'
left join marks
    on answers.edition_code = marks.edition_code
{{ changed_editions_only('answers.edition_code') }}
