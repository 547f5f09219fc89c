-- One row per edition × maturity level of that edition's scale, with its stage
-- (stages are shared across editions and let a 5- and a 6-level scale be compared),
-- the level harmonised to the common scale (var harmonised_scale_size, 5: stages above
-- it are merged into it, so 2021 levels 5 and 6 both become 5) and the score 0-100
-- (level placed linearly on the edition's own scale: 1 → 0, scale_size → 100).
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

),

editions as (

    select
        cast(edition_code as {{ dbt.type_string() }}) as edition_code,
        cast(scale_size as {{ dbt.type_int() }})      as scale_size
    from {{ ref('dim_editions') }}

)

select
    levels.edition_code,
    levels.level,
    levels.label_fr,
    levels.stage_code,
    stages.stage_order,
    stages.label_fr as stage_label_fr,
    cast(
        case
            when stages.stage_order > {{ var('harmonised_scale_size') }} then {{ var('harmonised_scale_size') }}
            else stages.stage_order
        end
        as {{ dbt.type_int() }}
    ) as harmonised_level,
    cast(
        case
            when editions.scale_size > 1
                then 100 * cast(levels.level - 1 as {{ type_double() }}) / (editions.scale_size - 1)
        end
        as {{ type_double() }}
    ) as score_0_100
from levels
left join stages
    on levels.stage_code = stages.stage_code
-- editions with data only (dim_editions)
inner join editions
    on levels.edition_code = editions.edition_code
