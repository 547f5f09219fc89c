-- One row per respondent (a collectivity, identified by its SIREN) that has at least one
-- kept response. Name, population and region come from the official reference;
-- type_code is the type recorded in the respondent's latest edition, report_group follows.
-- Name variants seen in the exports (all resolved to this SIREN by the ingester) and
-- type changes between editions are summarised here; the per-edition history is
-- dim_respondent_editions.
with ranked as (

    select * from {{ ref('int_responses__ranked') }}

),

latest as (

    select
        respondent_id,
        edition_code as latest_edition_code,
        type_code
    from ranked
    where respondent_edition_rank = 1

),

history as (

    select
        respondent_id,
        count(*) as n_editions,
        max(respondent_edition_rank) as oldest_rank
    from ranked
    group by respondent_id

),

first_edition as (

    select
        ranked.respondent_id,
        ranked.edition_code as first_edition_code
    from ranked
    inner join history
        on  ranked.respondent_id = history.respondent_id
        and ranked.respondent_edition_rank = history.oldest_rank

),

collectivities as (

    select
        cast(siren as {{ dbt.type_string() }})       as siren,
        cast(insee_code as {{ dbt.type_string() }})  as insee_code,
        cast(name as {{ dbt.type_string() }})        as name,
        cast(population as {{ dbt.type_bigint() }})  as population,
        cast(region_code as {{ dbt.type_string() }}) as region_code,
        cast(region_name as {{ dbt.type_string() }}) as region_name
    from {{ ref('collectivities') }}

),

respondent_editions as (

    select * from {{ ref('int_respondent_editions') }}

),

distinct_names as (

    select distinct
        respondent_id,
        collectivity_name_exported
    from respondent_editions

),

name_variants as (

    select
        respondent_id,
        count(*) as n_name_variants,
        {{ dbt.listagg(
            measure="collectivity_name_exported",
            delimiter_text="' | '",
            order_by_clause="order by collectivity_name_exported"
        ) }} as name_variants
    from distinct_names
    group by respondent_id

),

type_history as (

    select
        respondent_id,
        count(distinct type_code) as n_type_codes
    from respondent_editions
    group by respondent_id

),

latest_band as (

    select
        respondent_id,
        population_band_code,
        population_band_label_fr
    from respondent_editions
    where respondent_edition_rank = 1

),

types as (

    select
        cast(type_code as {{ dbt.type_string() }})             as type_code,
        cast(label_fr as {{ dbt.type_string() }})              as type_label_fr,
        cast(report_group as {{ dbt.type_string() }})          as report_group,
        cast(report_group_label_fr as {{ dbt.type_string() }}) as report_group_label_fr
    from {{ ref('collectivity_types') }}

)

select
    latest.respondent_id,
    collectivities.name,
    collectivities.insee_code,
    latest.type_code,
    types.type_label_fr,
    types.report_group,
    types.report_group_label_fr,
    collectivities.population,
    collectivities.region_code,
    collectivities.region_name,
    first_edition.first_edition_code,
    latest.latest_edition_code,
    cast(history.n_editions as {{ dbt.type_int() }}) as n_editions,
    latest_band.population_band_code,
    latest_band.population_band_label_fr,
    cast(name_variants.n_name_variants as {{ dbt.type_int() }}) as n_name_variants,
    name_variants.name_variants,
    case when type_history.n_type_codes > 1 then true else false end as has_type_change
from latest
inner join history
    on latest.respondent_id = history.respondent_id
inner join first_edition
    on latest.respondent_id = first_edition.respondent_id
left join collectivities
    on latest.respondent_id = collectivities.siren
left join types
    on latest.type_code = types.type_code
left join latest_band
    on latest.respondent_id = latest_band.respondent_id
left join name_variants
    on latest.respondent_id = name_variants.respondent_id
left join type_history
    on latest.respondent_id = type_history.respondent_id
