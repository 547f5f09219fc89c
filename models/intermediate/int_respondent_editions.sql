-- Edition × respondent: the collectivity as it answered that edition (name as exported,
-- official type at that edition and its report group) with its population band (from
-- the reference population: the current legal population, not that of the edition) and
-- what changed since its previous edition. Feeds dim_respondent_editions, dim_respondents
-- and the segments of the marts.
with ranked as (

    select * from {{ ref('int_responses__ranked') }}

),

collectivities as (

    select
        cast(siren as {{ dbt.type_string() }})      as siren,
        cast(population as {{ dbt.type_bigint() }}) as population
    from {{ ref('collectivities') }}

),

types as (

    select
        cast(type_code as {{ dbt.type_string() }})             as type_code,
        cast(label_fr as {{ dbt.type_string() }})              as type_label_fr,
        cast(report_group as {{ dbt.type_string() }})          as report_group,
        cast(report_group_label_fr as {{ dbt.type_string() }}) as report_group_label_fr
    from {{ ref('collectivity_types') }}

),

bands as (

    select
        cast(band_code as {{ dbt.type_string() }})  as band_code,
        cast(lower_bound as {{ dbt.type_bigint() }}) as lower_bound,
        cast(upper_bound as {{ dbt.type_bigint() }}) as upper_bound,
        cast(label_fr as {{ dbt.type_string() }})   as label_fr
    from {{ ref('population_bands') }}

),

with_previous as (

    select
        ranked.edition_code,
        ranked.respondent_id,
        ranked.collectivity_name,
        ranked.type_code,
        ranked.edition_year,
        ranked.edition_number,
        ranked.respondent_edition_rank,
        lag(ranked.edition_code) over (
            partition by ranked.respondent_id
            order by ranked.edition_year, ranked.edition_number
        ) as previous_edition_code,
        lag(ranked.collectivity_name) over (
            partition by ranked.respondent_id
            order by ranked.edition_year, ranked.edition_number
        ) as previous_collectivity_name,
        lag(ranked.type_code) over (
            partition by ranked.respondent_id
            order by ranked.edition_year, ranked.edition_number
        ) as previous_type_code
    from ranked

)

select
    with_previous.edition_code,
    with_previous.respondent_id,
    with_previous.collectivity_name as collectivity_name_exported,
    with_previous.type_code,
    types.type_label_fr,
    types.report_group,
    types.report_group_label_fr,
    collectivities.population,
    bands.band_code as population_band_code,
    bands.label_fr  as population_band_label_fr,
    with_previous.edition_year,
    with_previous.edition_number,
    cast(with_previous.respondent_edition_rank as {{ dbt.type_int() }}) as respondent_edition_rank,
    with_previous.previous_edition_code,
    with_previous.previous_type_code,
    case
        when with_previous.previous_edition_code is null then false
        else with_previous.type_code <> with_previous.previous_type_code
    end as is_type_changed,
    case
        when with_previous.previous_edition_code is null then false
        else with_previous.collectivity_name <> with_previous.previous_collectivity_name
    end as is_name_changed
from with_previous
left join collectivities
    on with_previous.respondent_id = collectivities.siren
left join types
    on with_previous.type_code = types.type_code
left join bands
    on  collectivities.population >= bands.lower_bound
    and (bands.upper_bound is null or collectivities.population < bands.upper_bound)
