-- Each edition's scale is levels 1 … scale_size, each present once in dim_scale_levels.
-- Shown in Dagster as an asset check of dim_scale_levels (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'dim_scale_levels'}}}) }}
with levels as (

    select
        edition_code,
        count(*)   as n_levels,
        min(level) as min_level,
        max(level) as max_level
    from {{ ref('dim_scale_levels') }}
    group by edition_code

)

select
    editions.edition_code,
    editions.scale_size,
    levels.n_levels,
    levels.min_level,
    levels.max_level
from {{ ref('dim_editions') }} as editions
left join levels
    on editions.edition_code = levels.edition_code
where levels.edition_code is null
    or levels.n_levels <> editions.scale_size
    or levels.min_level <> 1
    or levels.max_level <> editions.scale_size
