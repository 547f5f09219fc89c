-- The perimeter of an edition comparison: for each pair of editions (int_edition_pairs),
-- the questions identical in both (same question_key), with their code on each side.
with pairs as (

    select * from {{ ref('int_edition_pairs') }}

),

questions as (

    select * from {{ ref('dim_questions') }}

)

select
    pairs.edition_code_from,
    pairs.edition_code_to,
    q_to.question_key,
    q_to.theme_code,
    q_from.question_code as question_code_from,
    q_to.question_code   as question_code_to,
    q_to.wording_fr
from pairs
inner join questions as q_from
    on pairs.edition_code_from = q_from.edition_code
inner join questions as q_to
    on  pairs.edition_code_to = q_to.edition_code
    and q_from.question_key = q_to.question_key
