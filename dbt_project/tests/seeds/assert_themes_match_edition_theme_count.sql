-- Each edition of seeds/editions.csv has exactly theme_count themes in seeds/themes.csv,
-- each with at least one question in seeds/questions.csv. Seed-level: `barometre
-- validate` runs it before anything is loaded.
{{ config(meta={
    'dagster': {'ref': {'name': 'themes'}},
    'seed': 'editions',
    'fix': "make seeds/themes.csv list the edition's themes (as many as theme_count in "
           "seeds/editions.csv), each with at least one question in seeds/questions.csv; "
           "or correct theme_count",
}) }}
with question_counts as (

    select edition_code, theme_code, count(*) as n_questions
    from {{ ref('questions') }}
    group by edition_code, theme_code

),

themes as (

    select
        themes.edition_code,
        count(*) as n_themes,
        sum(case when question_counts.n_questions is null then 1 else 0 end) as n_empty_themes
    from {{ ref('themes') }} as themes
    left join question_counts
        on  themes.edition_code = question_counts.edition_code
        and themes.theme_code = question_counts.theme_code
    group by themes.edition_code

)

select
    editions.edition_code,
    editions.theme_count,
    coalesce(themes.n_themes, 0)       as themes_listed,
    coalesce(themes.n_empty_themes, 0) as themes_without_question
from {{ ref('editions') }} as editions
left join themes
    on editions.edition_code = themes.edition_code
where themes.edition_code is null
    or themes.n_themes <> editions.theme_count
    or themes.n_empty_themes > 0
