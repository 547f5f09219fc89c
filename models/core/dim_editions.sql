-- One row per edition of the survey (seed editions).
select
    cast(edition_code as {{ dbt.type_string() }})   as edition_code,
    cast(edition_year as {{ dbt.type_int() }})      as edition_year,
    cast(edition_number as {{ dbt.type_int() }})    as edition_number,
    cast(field_start as date)                        as field_start,
    cast(field_end as date)                          as field_end,
    cast(scale_size as {{ dbt.type_int() }})        as scale_size,
    cast(theme_count as {{ dbt.type_int() }})       as theme_count,
    cast(label_fr as {{ dbt.type_string() }})       as label_fr
from {{ ref('editions') }}
