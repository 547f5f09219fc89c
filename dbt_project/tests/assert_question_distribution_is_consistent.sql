-- The indicator logic of mart_question_distribution adds up. One row per offending question:
--   answered + not concerned + no answer = respondents;
--   a published question has a share for every level of its edition's scale and none
--   beyond it (the 5- and 6-level editions share the columns: level 6 is NULL in 2018);
--   its exact level shares sum to 1;
--   pct_sum is the sum of its rounded level percentages and lies within 100 ± floor(k / 2)
--   for an edition of k levels (k percentages rounded half up are each off by at most half
--   a point: ±2 for 5 levels, ±3 for 6);
--   the report-style stage percentage ≥ 4 is the sum of the rounded levels 4-6.
-- Shown in Dagster as an asset check of mart_question_distribution (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'mart_question_distribution'}}}) }}
{#- the mart's share_level_1 … share_level_6 columns (max_levels of the model) -#}
{%- set levels = range(1, 7) %}
with distribution as (

    select * from {{ ref('mart_question_distribution') }}

),

editions as (

    select * from {{ ref('dim_editions') }}

)

select
    distribution.edition_code,
    distribution.question_code,
    distribution.n_respondents,
    distribution.n_answering,
    distribution.n_not_concerned,
    distribution.n_no_answer,
    distribution.pct_sum,
    editions.scale_size
from distribution
left join editions
    on distribution.edition_code = editions.edition_code
where distribution.n_answering + distribution.n_not_concerned + distribution.n_no_answer
    <> distribution.n_respondents
    {%- for level in levels %}
    or ({{ level }} > editions.scale_size and distribution.share_level_{{ level }} is not null)
    {%- endfor %}
    or (
        not distribution.is_suppressed
        and (
            editions.scale_size is null
            {%- for level in levels %}
            or ({{ level }} <= editions.scale_size and distribution.share_level_{{ level }} is null)
            {%- endfor %}
            or abs(
                {% for level in levels %}coalesce(distribution.share_level_{{ level }}, 0){% if not loop.last %} + {% endif %}{% endfor %} - 1
            ) > 0.000001
            or abs(distribution.pct_sum - 100) > floor(editions.scale_size / 2.0)
            or distribution.pct_sum
            <> {% for level in levels %}coalesce(distribution.pct_level_{{ level }}, 0){% if not loop.last %} + {% endif %}{% endfor %}
            or distribution.pct_stage_ge_4
            <> coalesce(distribution.pct_level_4, 0) + coalesce(distribution.pct_level_5, 0)
            + coalesce(distribution.pct_level_6, 0)
        )
    )
