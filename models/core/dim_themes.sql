-- One row per edition × theme (seed themes), with the number of questions of the theme.
with themes as (

    select
        cast(edition_code as {{ dbt.type_string() }})   as edition_code,
        cast(theme_code as {{ dbt.type_string() }})     as theme_code,
        cast(theme_number as {{ dbt.type_int() }})      as theme_number,
        cast(label_fr as {{ dbt.type_string() }})       as label_fr,
        cast(description_fr as {{ dbt.type_string() }}) as description_fr
    from {{ ref('themes') }}

),

question_counts as (

    select
        edition_code,
        theme_code,
        count(*) as n_questions
    from {{ ref('int_questions__keyed') }}
    group by edition_code, theme_code

)

select
    themes.edition_code,
    themes.theme_code,
    themes.theme_number,
    themes.label_fr,
    themes.description_fr,
    cast(coalesce(question_counts.n_questions, 0) as {{ dbt.type_int() }}) as n_questions
from themes
-- editions with data only (dim_editions)
inner join {{ ref('dim_editions') }} as editions
    on themes.edition_code = editions.edition_code
left join question_counts
    on  themes.edition_code = question_counts.edition_code
    and themes.theme_code = question_counts.theme_code
