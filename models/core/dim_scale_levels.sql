-- One row per edition × maturity level of that edition's scale, with its stage
-- (stages are shared across editions and let a 5- and a 6-level scale be compared).
with levels as (

    select
        cast(edition_code as {{ dbt.type_string() }}) as edition_code,
        cast(level as {{ dbt.type_int() }})           as level,
        cast(label_fr as {{ dbt.type_string() }})     as label_fr,
        cast(stage_code as {{ dbt.type_string() }})   as stage_code
    from {{ ref('scale_levels') }}

),

stages as (

    select
        cast(stage_code as {{ dbt.type_string() }}) as stage_code,
        cast(stage_order as {{ dbt.type_int() }})    as stage_order,
        cast(label_fr as {{ dbt.type_string() }})    as label_fr
    from {{ ref('stages') }}

)

select
    levels.edition_code,
    levels.level,
    levels.label_fr,
    levels.stage_code,
    stages.stage_order,
    stages.label_fr as stage_label_fr
from levels
left join stages
    on levels.stage_code = stages.stage_code
