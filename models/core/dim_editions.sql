-- One row per edition of the survey that holds data: an edition declared in the seed
-- editions but with no loaded response is left out, and with it its themes, questions
-- and scale (dim_themes, dim_questions, dim_scale_levels, bridge_question_transverse_themes
-- join this model), so no mart publishes empty rows for it. `barometre status` and the
-- run summary warn about such editions.
with loaded as (

    select distinct edition_code
    from {{ ref('stg_raw__responses') }}

)

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
where cast(edition_code as {{ dbt.type_string() }}) in (select loaded.edition_code from loaded)
