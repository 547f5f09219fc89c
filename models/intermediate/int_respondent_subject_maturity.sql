-- sqlfluff:exclude_rules:LT01,ST06,RF03,RF04,ST02,LT02
-- Edition × respondent × subject, where a subject is a theme (subject_type THEME,
-- subject_code = theme_code) or a transverse theme (TRANSVERSE, subject_code =
-- transverse_code, over the questions tagged with it). The respondent's maturity on the
-- subject is the arithmetic mean of its answered levels (DOMAIN: theme maturity); "no
-- answer" and "not concerned" are counted and never enter a mean or a share. The counts
-- of answers per report stage feed the pooled stage shares of the marts.
-- Incremental by edition (macros/edition_incremental.sql, edition_marks_from): an
-- edition is rebuilt when fct_answers rebuilt it or its transverse tags changed.
{%- set marks_spec = {
    'upstream': 'fct_answers',
    'digests': [{
        'relation': 'bridge_question_transverse_themes',
        'columns': ['question_code', 'transverse_code'],
        'order_by': 'question_code, transverse_code'
    }]
} %}
{{ edition_incremental_config(marks_spec) }}

with marks as (

    {{ edition_marks_from(marks_spec) }}

),

answers as (

    select * from {{ ref('fct_answers') }}
    {{ changed_editions_only('edition_code') }}

),

bridge as (

    select * from {{ ref('bridge_question_transverse_themes') }}

),

subject_answers as (

    select
        'THEME' as subject_type,
        theme_code as subject_code,
        answers.*
    from answers

    union all

    select
        'TRANSVERSE' as subject_type,
        bridge.transverse_code as subject_code,
        answers.*
    from answers
    inner join bridge
        on  answers.edition_code = bridge.edition_code
        and answers.question_code = bridge.question_code

),

subjects as (

select
    cast(edition_code as {{ dbt.type_string() }})  as edition_code,
    cast(respondent_id as {{ dbt.type_string() }}) as respondent_id,
    cast(subject_type as {{ dbt.type_string() }})  as subject_type,
    cast(subject_code as {{ dbt.type_string() }})  as subject_code,
    cast(sum(case when answer_state = 'answered' then 1 else 0 end) as {{ dbt.type_int() }})      as n_answered,
    cast(sum(case when answer_state = 'not_concerned' then 1 else 0 end) as {{ dbt.type_int() }}) as n_not_concerned,
    cast(sum(case when answer_state = 'no_answer' then 1 else 0 end) as {{ dbt.type_int() }})     as n_no_answer,
    cast({{ stable_avg("case when answer_state = 'answered' then level end") }} as {{ type_double() }})
        as mean_level,
    cast({{ stable_avg("case when answer_state = 'answered' then level_harmonised end") }} as {{ type_double() }})
        as mean_level_harmonised,
    {{ stable_avg("case when answer_state = 'answered' then score_0_100 end") }}
        as mean_score_0_100,
    {% for stage in ['eq_1', 'le_2', 'ge_3', 'ge_4', 'ge_5', 'eq_6'] -%}
    cast(sum(case when answer_state = 'answered' and is_stage_{{ stage }} then 1 else 0 end) as {{ dbt.type_int() }})
        as n_stage_{{ stage }}{{ "," if not loop.last }}
    {% endfor %}
from subject_answers
group by edition_code, respondent_id, subject_type, subject_code

)

select
    subjects.*,
    marks.edition_build_mark
from subjects
inner join marks
    on subjects.edition_code = marks.edition_code
