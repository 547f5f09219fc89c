-- Edition × question from the seeds, with its cross-edition identity (question_key from
-- question_crosswalk) and its transverse tags. Keys cast to text so that joins with the
-- raw tables never depend on how the CSV columns were typed.
with questions as (

    select
        cast(edition_code as {{ dbt.type_string() }})   as edition_code,
        cast(question_code as {{ dbt.type_string() }})  as question_code,
        cast(theme_code as {{ dbt.type_string() }})     as theme_code,
        cast(order_in_theme as {{ dbt.type_int() }})    as order_in_theme,
        cast(wording_fr as {{ dbt.type_string() }})     as wording_fr,
        cast(wording_status as {{ dbt.type_string() }}) as wording_status,
        cast(source_note as {{ dbt.type_string() }})    as source_note
    from {{ ref('questions') }}

),

crosswalk as (

    select
        cast(question_key as {{ dbt.type_string() }})  as question_key,
        cast(edition_code as {{ dbt.type_string() }})  as edition_code,
        cast(question_code as {{ dbt.type_string() }}) as question_code
    from {{ ref('question_crosswalk') }}

),

transverse as (

    select
        cast(edition_code as {{ dbt.type_string() }})  as edition_code,
        cast(question_code as {{ dbt.type_string() }}) as question_code,
        {{ dbt.listagg(
            measure="cast(transverse_code as " ~ dbt.type_string() ~ ")",
            delimiter_text="','",
            order_by_clause="order by transverse_code"
        ) }} as transverse_codes
    from {{ ref('question_transverse_themes') }}
    group by edition_code, question_code

)

select
    questions.edition_code,
    questions.question_code,
    crosswalk.question_key,
    questions.theme_code,
    questions.order_in_theme,
    questions.wording_fr,
    questions.wording_status,
    questions.source_note,
    transverse.transverse_codes
from questions
left join crosswalk
    on  questions.edition_code = crosswalk.edition_code
    and questions.question_code = crosswalk.question_code
left join transverse
    on  questions.edition_code = transverse.edition_code
    and questions.question_code = transverse.question_code
