-- Each edition's scale is levels 1 … scale_size of seeds/editions.csv, each listed once
-- in seeds/scale_levels.csv. Seed-level: `barometre validate` runs it.
{{ config(meta={
    'dagster': {'ref': {'name': 'scale_levels'}},
    'seed': 'editions',
    'fix': "list levels 1 to scale_size of the edition in seeds/scale_levels.csv, one row "
           "each with its label and stage; or correct scale_size in seeds/editions.csv",
}) }}
with levels as (

    select
        edition_code,
        count(*)           as n_levels,
        count(distinct level) as n_distinct_levels,
        min(level)         as min_level,
        max(level)         as max_level
    from {{ ref('scale_levels') }}
    group by edition_code

)

select
    editions.edition_code,
    editions.scale_size,
    coalesce(levels.n_levels, 0) as levels_listed,
    levels.min_level,
    levels.max_level
from {{ ref('editions') }} as editions
left join levels
    on editions.edition_code = levels.edition_code
where levels.edition_code is null
    or levels.n_levels <> editions.scale_size
    or levels.n_distinct_levels <> levels.n_levels
    or levels.min_level <> 1
    or levels.max_level <> editions.scale_size
