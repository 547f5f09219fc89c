-- One row per edition × question. question_key is the identity across editions (rows of
-- two editions sharing a question_key are the identical question).
select
    edition_code,
    question_code,
    question_key,
    theme_code,
    order_in_theme,
    wording_fr,
    wording_status,
    source_note,
    transverse_codes
from {{ ref('int_questions__keyed') }}
