-- Each edition has exactly theme_count themes in dim_themes, each with at least one question.
-- Shown in Dagster as an asset check of dim_themes (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'dim_themes'}}}) }}
with themes as (

    select
        edition_code,
        count(*) as n_themes,
        sum(case when n_questions = 0 then 1 else 0 end) as n_empty_themes
    from {{ ref('dim_themes') }}
    group by edition_code

)

select
    editions.edition_code,
    editions.theme_count,
    themes.n_themes,
    themes.n_empty_themes
from {{ ref('dim_editions') }} as editions
left join themes
    on editions.edition_code = themes.edition_code
where themes.edition_code is null
    or themes.n_themes <> editions.theme_count
    or themes.n_empty_themes > 0
