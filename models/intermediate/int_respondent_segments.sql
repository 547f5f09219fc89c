-- Edition × respondent × segment: the segments a respondent belongs to in an edition,
-- for the segmented marts. Three segment types, each a partition of the respondents of
-- the edition: ALL (everyone), REPORT_GROUP (the report's three groups, from the type
-- the collectivity had at that edition) and POPULATION_BAND (seed population_bands).
-- A respondent without a group or a band (unknown type or population) is only in ALL.
with respondent_editions as (

    select * from {{ ref('int_respondent_editions') }}

),

bands as (

    select
        cast(band_code as {{ dbt.type_string() }})   as band_code,
        cast(lower_bound as {{ dbt.type_bigint() }}) as lower_bound
    from {{ ref('population_bands') }}

),

band_order as (

    select
        band_code,
        row_number() over (order by lower_bound) as band_rank
    from bands

),

segments as (

    select
        edition_code,
        respondent_id,
        'ALL' as segment_type,
        'ALL' as segment_code,
        'Toutes les collectivités répondantes' as segment_label_fr,
        0 as segment_order
    from respondent_editions

    union all

    select
        edition_code,
        respondent_id,
        'REPORT_GROUP' as segment_type,
        report_group as segment_code,
        report_group_label_fr as segment_label_fr,
        0 as segment_order
    from respondent_editions
    where report_group is not null

    union all

    select
        respondent_editions.edition_code,
        respondent_editions.respondent_id,
        'POPULATION_BAND' as segment_type,
        respondent_editions.population_band_code as segment_code,
        respondent_editions.population_band_label_fr as segment_label_fr,
        band_order.band_rank as segment_order
    from respondent_editions
    inner join band_order
        on respondent_editions.population_band_code = band_order.band_code

)

select
    cast(edition_code as {{ dbt.type_string() }})     as edition_code,
    cast(respondent_id as {{ dbt.type_string() }})    as respondent_id,
    cast(segment_type as {{ dbt.type_string() }})     as segment_type,
    cast(segment_code as {{ dbt.type_string() }})     as segment_code,
    cast(segment_label_fr as {{ dbt.type_string() }}) as segment_label_fr,
    cast(segment_order as {{ dbt.type_int() }})       as segment_order
from segments
