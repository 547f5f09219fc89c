-- Each respondent with an answer is in exactly one group, each peloton member in exactly
-- one sub-group: per edition, the groups (and the peloton's sub-groups) of
-- restricted.mart_respondent_maturity add up to the classified respondents, and the
-- published counts of mart_maturity_groups never exceed the true counts.
-- Shown in Dagster as an asset check of mart_maturity_groups (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'mart_maturity_groups'}}}) }}
with respondents as (

    select * from {{ ref('mart_respondent_maturity') }}
    where maturity_group is not null

),

truth as (

    select
        edition_code,
        count(*) as n_classified,
        sum(case when maturity_group = 'PELOTON' then 1 else 0 end) as n_peloton,
        sum(case when maturity_subgroup is not null then 1 else 0 end) as n_subgrouped
    from respondents
    group by edition_code

),

published as (

    select
        edition_code,
        max(n_classified_respondents) as n_classified_published,
        sum(case when group_level = 'GROUP' then coalesce(n_respondents, 0) else 0 end) as n_groups_published
    from {{ ref('mart_maturity_groups') }}
    group by edition_code

)

select
    truth.edition_code,
    truth.n_classified,
    truth.n_peloton,
    truth.n_subgrouped,
    published.n_classified_published,
    published.n_groups_published
from truth
left join published
    on truth.edition_code = published.edition_code
where truth.n_peloton <> truth.n_subgrouped
    or published.n_classified_published is null
    or published.n_classified_published <> truth.n_classified
    or published.n_groups_published > truth.n_classified
