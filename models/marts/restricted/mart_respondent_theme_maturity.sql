-- RESTRICTED (barometer team only): per-respondent results, edition × respondent × theme.
-- theme_maturity is the arithmetic mean of the answered levels of the theme; "no answer"
-- and "not concerned" are counted but never enter the mean. NULL when nothing is answered.
with answers as (

    select * from {{ ref('fct_answers') }}

)

select
    edition_code,
    respondent_id,
    theme_code,
    cast(sum(case when answer_state = 'answered' then 1 else 0 end) as {{ dbt.type_int() }})      as n_answered,
    cast(sum(case when answer_state = 'not_concerned' then 1 else 0 end) as {{ dbt.type_int() }}) as n_not_concerned,
    cast(sum(case when answer_state = 'no_answer' then 1 else 0 end) as {{ dbt.type_int() }})     as n_no_answer,
    cast(
        {{ stable_avg("case when answer_state = 'answered' then level end") }}
        as {{ type_double() }}
    ) as theme_maturity
from answers
group by edition_code, respondent_id, theme_code
