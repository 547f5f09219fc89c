-- Bridge edition × question × transverse theme: a question carries zero or more of the
-- transverse tags (RESP, CRISE, COOP). One row per tag; a question without a tag has no
-- row. Join fct_answers on (edition_code, question_code) to analyse a transverse theme.
with tags as (

    select
        cast(edition_code as {{ dbt.type_string() }})    as edition_code,
        cast(question_code as {{ dbt.type_string() }})   as question_code,
        cast(transverse_code as {{ dbt.type_string() }}) as transverse_code
    from {{ ref('question_transverse_themes') }}

),

questions as (

    select * from {{ ref('int_questions__keyed') }}

)

select
    tags.edition_code,
    tags.question_code,
    questions.question_key,
    questions.theme_code,
    tags.transverse_code
from tags
-- editions with data only (dim_editions)
inner join {{ ref('dim_editions') }} as editions
    on tags.edition_code = editions.edition_code
left join questions
    on  tags.edition_code = questions.edition_code
    and tags.question_code = questions.question_code
