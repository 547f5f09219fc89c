-- One row per respondent (a collectivity, identified by its SIREN) that has at least one
-- kept response. Name, population and region come from the official reference;
-- type_code is the type recorded in the respondent's latest edition, report_group follows.
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
    cast(history.n_editions as {{ dbt.type_int() }}) as n_editions
from latest
inner join history
    on latest.respondent_id = history.respondent_id
inner join first_edition
    on latest.respondent_id = first_edition.respondent_id
left join collectivities
    on latest.respondent_id = collectivities.siren
left join types
    on latest.type_code = types.type_code
