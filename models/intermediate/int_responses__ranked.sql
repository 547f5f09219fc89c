-- Kept responses with their edition's chronology, ranked per respondent from the most
-- recent edition (respondent_edition_rank = 1) to the oldest. Editions are ordered by
-- edition_year then edition_number from the editions seed, never by comparing codes.
with responses as (

    select * from {{ ref('stg_raw__responses') }}

),

editions as (

    select
        cast(edition_code as {{ dbt.type_string() }}) as edition_code,
        cast(edition_year as {{ dbt.type_int() }})    as edition_year,
        cast(edition_number as {{ dbt.type_int() }})  as edition_number
    from {{ ref('editions') }}

)

select
    responses.edition_code,
    responses.respondent_id,
    responses.response_id,
    responses.collectivity_name,
    responses.type_code,
    editions.edition_year,
    editions.edition_number,
    row_number() over (
        partition by responses.respondent_id
        order by editions.edition_year desc, editions.edition_number desc
    ) as respondent_edition_rank
from responses
left join editions
    on responses.edition_code = editions.edition_code
