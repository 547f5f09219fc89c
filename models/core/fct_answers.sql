-- Grain: edition × respondent × question. One row per answer cell kept by the ingester,
-- including "no answer" and "not concerned" (kept and counted, never in a denominator).
with answers as (

    select * from {{ ref('stg_raw__answers') }}

),

questions as (

    select * from {{ ref('int_questions__keyed') }}

)

select
    answers.edition_code,
    answers.respondent_id,
    answers.question_code,
    questions.question_key,
    questions.theme_code,
    answers.answer_state,
    answers.level,
    case when answers.answer_state = 'answered' then true else false end as is_answered
from answers
left join questions
    on  answers.edition_code = questions.edition_code
    and answers.question_code = questions.question_code
