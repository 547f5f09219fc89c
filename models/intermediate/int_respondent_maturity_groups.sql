-- Edition × respondent: general maturity and the maturity group of the report
-- (leaders / peloton généralistes or spécialistes / retardataires), by the documented
-- rule of docs/marts/mart_maturity_groups.md. Every threshold is a dbt var and is read
-- on the harmonised 1-5 scale (2021 levels 5 and 6 → 5), so one rule serves 5- and
-- 6-level editions alike:
--   LEADERS       strategy theme (var maturity_groups_strategy_theme_code) maturity
--                 >= maturity_groups_leader_min_strategy AND share of the respondent's
--                 assessed themes that are implemented (theme maturity >=
--                 maturity_groups_implemented_level) >= maturity_groups_leader_min_implemented_share
--   RETARDATAIRES otherwise, general maturity < maturity_groups_laggard_max_general
--   PELOTON       everyone else; SPECIALISTES when at least
--                 maturity_groups_specialist_min_themes "specialty" themes: implemented
--                 AND at least maturity_groups_specialist_min_gap above the respondent's
--                 general maturity; GENERALISTES otherwise (even across themes)
-- General maturity = arithmetic mean of all the respondent's answered levels (DOMAIN).
-- A respondent with no answered question is not classified (groups NULL).
-- Incremental by edition (macros/edition_incremental.sql, edition_marks_from): an
-- edition is classified again when its answers were rebuilt (int_respondent_subject_maturity
-- follows fct_answers) or a var of the rule changed. A table: read by
-- mart_maturity_groups and mart_respondent_maturity (as a view, each scanned fct_answers).
{%- set marks_spec = {
    'upstream': 'int_respondent_subject_maturity',
    'vars': [
        'maturity_groups_strategy_theme_code',
        'maturity_groups_implemented_level',
        'maturity_groups_leader_min_strategy',
        'maturity_groups_leader_min_implemented_share',
        'maturity_groups_laggard_max_general',
        'maturity_groups_specialist_min_gap',
        'maturity_groups_specialist_min_themes'
    ]
} %}
{{ edition_incremental_config(marks_spec) }}

with marks as (

    {{ edition_marks_from(marks_spec) }}

),

answers as (

    select * from {{ ref('fct_answers') }}
    {{ changed_editions_only('edition_code') }}

),

respondent_subjects as (

    select * from {{ ref('int_respondent_subject_maturity') }}
    {{ changed_editions_only('edition_code') }}

),

themes as (

    select * from respondent_subjects
    where subject_type = 'THEME'
        and n_answered > 0

),

general as (

    select
        edition_code,
        respondent_id,
        sum(case when answer_state = 'answered' then 1 else 0 end) as n_answered,
        {{ stable_avg("case when answer_state = 'answered' then level end") }} as general_maturity,
        {{ stable_avg("case when answer_state = 'answered' then level_harmonised end") }}
            as general_maturity_harmonised
    from answers
    group by edition_code, respondent_id

),

theme_summary as (

    select
        edition_code,
        respondent_id,
        count(*) as n_themes_assessed,
        sum(
            case when mean_level_harmonised >= {{ var('maturity_groups_implemented_level') }} then 1 else 0 end
        ) as n_themes_implemented,
        max(
            case when subject_code = '{{ var("maturity_groups_strategy_theme_code") }}' then mean_level_harmonised end
        ) as strategy_maturity_harmonised
    from themes
    group by edition_code, respondent_id

),

specialties as (

    select
        themes.edition_code,
        themes.respondent_id,
        sum(
            case
                when themes.mean_level_harmonised >= {{ var('maturity_groups_implemented_level') }}
                    and themes.mean_level_harmonised - general.general_maturity_harmonised
                    >= {{ var('maturity_groups_specialist_min_gap') }}
                    then 1
                else 0
            end
        ) as n_specialty_themes
    from themes
    inner join general
        on  themes.edition_code = general.edition_code
        and themes.respondent_id = general.respondent_id
    group by themes.edition_code, themes.respondent_id

),

measured as (

    select
        general.edition_code,
        general.respondent_id,
        general.n_answered,
        general.general_maturity,
        general.general_maturity_harmonised,
        theme_summary.strategy_maturity_harmonised,
        coalesce(theme_summary.n_themes_assessed, 0) as n_themes_assessed,
        coalesce(theme_summary.n_themes_implemented, 0) as n_themes_implemented,
        coalesce(specialties.n_specialty_themes, 0) as n_specialty_themes,
        {{ safe_share('theme_summary.n_themes_implemented', 'theme_summary.n_themes_assessed') }}
            as share_themes_implemented
    from general
    left join theme_summary
        on  general.edition_code = theme_summary.edition_code
        and general.respondent_id = theme_summary.respondent_id
    left join specialties
        on  general.edition_code = specialties.edition_code
        and general.respondent_id = specialties.respondent_id

),

grouped as (

    select
        measured.*,
        case
            when n_answered = 0 then null
            when strategy_maturity_harmonised >= {{ var('maturity_groups_leader_min_strategy') }}
                and share_themes_implemented >= {{ var('maturity_groups_leader_min_implemented_share') }}
                then 'LEADERS'
            when general_maturity_harmonised < {{ var('maturity_groups_laggard_max_general') }}
                then 'RETARDATAIRES'
            else 'PELOTON'
        end as maturity_group
    from measured

),

marked as (

    select
        grouped.*,
        marks.edition_build_mark
    from grouped
    inner join marks
        on grouped.edition_code = marks.edition_code

)

select
    cast(edition_code as {{ dbt.type_string() }})              as edition_code,
    cast(respondent_id as {{ dbt.type_string() }})             as respondent_id,
    cast(n_answered as {{ dbt.type_int() }})                   as n_answered,
    cast(general_maturity as {{ type_double() }})              as general_maturity,
    cast(general_maturity_harmonised as {{ type_double() }})   as general_maturity_harmonised,
    cast(strategy_maturity_harmonised as {{ type_double() }})  as strategy_maturity_harmonised,
    cast(n_themes_assessed as {{ dbt.type_int() }})            as n_themes_assessed,
    cast(n_themes_implemented as {{ dbt.type_int() }})         as n_themes_implemented,
    cast(share_themes_implemented as {{ type_double() }})      as share_themes_implemented,
    cast(n_specialty_themes as {{ dbt.type_int() }})           as n_specialty_themes,
    cast(maturity_group as {{ dbt.type_string() }})            as maturity_group,
    cast(
        case
            when maturity_group <> 'PELOTON' then null
            when n_specialty_themes >= {{ var('maturity_groups_specialist_min_themes') }}
                then 'PELOTON_SPECIALISTES'
            else 'PELOTON_GENERALISTES'
        end
        as {{ dbt.type_string() }}
    ) as maturity_subgroup,
    edition_build_mark
from marked
