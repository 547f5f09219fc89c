-- One row per edition × question. question_key is the identity across editions (rows of
-- two editions sharing a question_key are the identical question).
-- Editions with data only (dim_editions).
select
    questions.edition_code,
    questions.question_code,
    questions.question_key,
    questions.theme_code,
    questions.order_in_theme,
    questions.wording_fr,
    questions.wording_status,
    questions.source_note,
    questions.transverse_codes
from {{ ref('int_questions__keyed') }} as questions
inner join {{ ref('dim_editions') }} as editions
    on questions.edition_code = editions.edition_code
