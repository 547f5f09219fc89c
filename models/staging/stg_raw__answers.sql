-- One row per kept response × mapped question. Rename/cast only.
with source as (

    select * from {{ source('raw', 'answers') }}

)

select
    cast(edition_code as {{ dbt.type_string() }})  as edition_code,
    cast(response_id as {{ dbt.type_string() }})   as response_id,
    cast(respondent_id as {{ dbt.type_string() }}) as respondent_id,
    cast(question_code as {{ dbt.type_string() }}) as question_code,
    cast(source_column as {{ dbt.type_string() }}) as source_column,
    cast(raw_answer as {{ dbt.type_string() }})    as raw_answer,
    cast(answer_state as {{ dbt.type_string() }})  as answer_state,
    cast(level as {{ dbt.type_int() }})            as level,
    cast(source_file as {{ dbt.type_string() }})   as source_file,
    cast(source_row as {{ dbt.type_int() }})       as source_row
from source
