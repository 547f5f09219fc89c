-- level is set iff the answer is answered. Returns the offending rows.
-- (That the level lies on the edition's scale is checked at the door by the pandera row
-- contract and on the table by the great-expectations suite fct_answers:
-- docs/data-quality.md.)
select
    edition_code,
    respondent_id,
    question_code,
    answer_state,
    level
from {{ ref('fct_answers') }}
where
    (answer_state = 'answered' and level is null)
    or (answer_state <> 'answered' and level is not null)
