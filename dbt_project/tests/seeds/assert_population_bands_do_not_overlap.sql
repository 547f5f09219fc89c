-- Population bands (seed population_bands) are half-open intervals
-- [lower_bound, upper_bound) that neither overlap nor leave a gap, with only the last
-- one unbounded, so every population falls in exactly one band.
{{ config(meta={
    'seed': 'population_bands',
    'fix': "make each band's upper_bound the next band's lower_bound, and leave upper_bound "
           "empty on the last band only",
}) }}
with bands as (

    select
        band_code,
        lower_bound,
        upper_bound,
        lead(lower_bound) over (order by lower_bound) as next_lower_bound
    from {{ ref('population_bands') }}

)

select *
from bands
where (upper_bound is not null and upper_bound <= lower_bound)
    or (next_lower_bound is not null and (upper_bound is null or upper_bound <> next_lower_bound))
    or (next_lower_bound is null and upper_bound is not null)
