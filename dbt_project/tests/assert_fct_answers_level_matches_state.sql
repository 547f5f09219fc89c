-- level is set iff the answer is answered, and then lies within the edition's scale
-- (1 … editions.scale_size). Returns the offending rows.
-- Shown in Dagster as an asset check of fct_answers (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'fct_answers'}}}) }}
with answers as (

    select * from {{ ref('fct_answers') }}

),

editions as (

    select * from {{ ref('dim_editions') }}

)

select
    answers.edition_code,
    answers.respondent_id,
    answers.question_code,
    answers.answer_state,
    answers.level,
    editions.scale_size
from answers
left join editions
    on answers.edition_code = editions.edition_code
where
    (answers.answer_state = 'answered' and answers.level is null)
    or (answers.answer_state <> 'answered' and answers.level is not null)
    or (
        answers.answer_state = 'answered'
        and (editions.scale_size is null or answers.level < 1 or answers.level > editions.scale_size)
    )
