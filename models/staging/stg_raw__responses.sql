-- One row per kept response (edition × collectivity). Rename/cast only.
with source as (

    select * from {{ source('raw', 'responses') }}

)

select
    cast(edition_code as {{ dbt.type_string() }})          as edition_code,
    cast(response_id as {{ dbt.type_string() }})           as response_id,
    cast(respondent_id as {{ dbt.type_string() }})         as respondent_id,
    cast(collectivity_name as {{ dbt.type_string() }})     as collectivity_name,
    cast(collectivity_type_raw as {{ dbt.type_string() }}) as collectivity_type_raw,
    cast(type_code as {{ dbt.type_string() }})             as type_code,
    cast(started_at as {{ dbt.type_timestamp() }})         as started_at,
    cast(submitted_at as {{ dbt.type_timestamp() }})       as submitted_at,
    cast(source_file as {{ dbt.type_string() }})           as source_file,
    cast(source_row as {{ dbt.type_int() }})               as source_row,
    cast(layout as {{ dbt.type_string() }})                as layout
from source
