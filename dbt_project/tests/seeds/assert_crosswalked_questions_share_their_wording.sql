-- Questions sharing a question_key in seeds/question_crosswalk.csv are the same question
-- in several editions (the edition comparison publishes them side by side): their
-- wordings must be equal once folded (normalize_wording), unless the later row says why
-- they are comparable all the same in comparable_reason.
{{ config(meta={
    'dagster': {'ref': {'name': 'question_crosswalk'}},
    'seed': 'question_crosswalk',
    'fix': "a reworded or new question gets a key of its own, <edition_code>_<question_code> "
           "(e.g. 2023_T11_Q01); if it is the same question reworded, keep the key and write "
           "why it stays comparable in comparable_reason",
}) }}
with keyed as (

    select
        crosswalk.question_key,
        crosswalk.edition_code,
        crosswalk.question_code,
        crosswalk.comparable_reason,
        editions.edition_year,
        editions.edition_number,
        questions.wording_fr,
        {{ normalize_wording('questions.wording_fr') }} as folded_wording
    from {{ ref('question_crosswalk') }} as crosswalk
    inner join {{ ref('questions') }} as questions
        on  crosswalk.edition_code = questions.edition_code
        and crosswalk.question_code = questions.question_code
    inner join {{ ref('editions') }} as editions
        on crosswalk.edition_code = editions.edition_code

)

select
    later.question_key,
    later.edition_code,
    later.question_code,
    later.wording_fr,
    earlier.edition_code  as earlier_edition_code,
    earlier.question_code as earlier_question_code,
    earlier.wording_fr    as earlier_wording_fr
from keyed as later
inner join keyed as earlier
    on  later.question_key = earlier.question_key
    and (earlier.edition_year < later.edition_year
         or (earlier.edition_year = later.edition_year
             and earlier.edition_number < later.edition_number))
where later.folded_wording <> earlier.folded_wording
    and coalesce(trim(later.comparable_reason), '') = ''
