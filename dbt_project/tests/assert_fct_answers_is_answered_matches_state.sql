-- is_answered is exactly answer_state = 'answered'.
select
    edition_code,
    respondent_id,
    question_code,
    answer_state,
    is_answered
from {{ ref('fct_answers') }}
where (answer_state = 'answered') <> is_answered
