-- sqlfluff:exclude_rules:LT01,ST06,RF03,RF04,ST02,LT02
-- Edition × question: how the respondents answered, as the report prints it. The counts
-- and rounded percentages per level come from int_question_levels__counted (shared with
-- mart_question_level_distribution), pivoted here into one column per level and stage.
-- n_answering counts answered cells only; "not concerned" and "no answer" are counted
-- apart and never enter a denominator. share_level_<l> = answers at level l /
-- n_answering (exact); pct_level_<l> = the same rounded half up to whole percent
-- (macro round_half_up_pct), so a row may sum to 99-101 like the report's.
-- Stage shares: share_stage_* exact (answers at the stage / n_answering); pct_stage_*
-- cumulate the rounded level percentages, as the report does when it quotes a stage
-- ("plus de 4 collectivités sur 10" = 34 + 3 + 6 = 43 %). Stages come from the level's
-- stage (dim_scale_levels), so they compare a 5- and a 6-level scale; a level or stage
-- absent from the edition's scale is NULL (2018 has no level 6).
-- Disclosure: a question answered by fewer than var min_cell_size respondents has
-- every share, percentage and mean nulled (is_suppressed, suppression_reason).
{# columns share_level_1 … share_level_6: the longest scale so far (2021); a longer scale
    needs new contract columns in mart_question_distribution.yml -#}
{% set max_levels = 6 -%}
{%- set stages = [
    ('eq_1', '= 1'), ('le_2', '<= 2'), ('ge_3', '>= 3'), ('ge_4', '>= 4'), ('ge_5', '>= 5'), ('eq_6', '= 6')
] -%}
with answers as (

    select * from {{ ref('fct_answers') }}

),

questions as (

    select * from {{ ref('dim_questions') }}

),

question_levels as (

    select * from {{ ref('int_question_levels__counted') }}

),

themes as (

    select * from {{ ref('dim_themes') }}

),

editions as (

    select * from {{ ref('dim_editions') }}

),

question_counts as (

    select
        edition_code,
        question_code,
        count(*) as n_respondents,
        sum(case when answer_state = 'answered' then 1 else 0 end) as n_answering,
        sum(case when answer_state = 'not_concerned' then 1 else 0 end) as n_not_concerned,
        sum(case when answer_state = 'no_answer' then 1 else 0 end) as n_no_answer,
        {{ stable_avg("case when answer_state = 'answered' then level end") }} as mean_level,
        {{ stable_avg("case when answer_state = 'answered' then level_harmonised end") }}
            as mean_level_harmonised
    from answers
    group by edition_code, question_code

),

pivoted as (

    select
        edition_code,
        question_code,
        {% for l in range(1, max_levels + 1) -%}
        max(case when level = {{ l }} then n_at_level end) as n_level_{{ l }},
        max(case when level = {{ l }} then pct_at_level end) as pct_level_{{ l }},
        {% endfor -%}
        {% for code, cond in stages -%}
        case when max(case when stage_order {{ cond }} then 1 else 0 end) = 1 then
            sum(case when stage_order {{ cond }} then n_at_level else 0 end)
        end as n_stage_{{ code }},
        case when max(case when stage_order {{ cond }} then 1 else 0 end) = 1 then
            sum(case when stage_order {{ cond }} then pct_at_level else 0 end)
        end as pct_stage_{{ code }},
        {% endfor -%}
        sum(pct_at_level) as pct_sum
    from question_levels
    group by edition_code, question_code

),

cells as (

    select
        question_counts.*,
        {% for l in range(1, max_levels + 1) -%}
        pivoted.n_level_{{ l }},
        pivoted.pct_level_{{ l }},
        {% endfor -%}
        {% for code, cond in stages -%}
        pivoted.n_stage_{{ code }},
        pivoted.pct_stage_{{ code }},
        {% endfor -%}
        pivoted.pct_sum
    from question_counts
    left join pivoted
        on  question_counts.edition_code = pivoted.edition_code
        and question_counts.question_code = pivoted.question_code

),

flagged as (

    {{ suppress_cells(
        source='cells',
        n_column='n_answering',
        partition_by=['edition_code', 'question_code'],
        tiebreak='question_code'
    ) }}

)

select
    flagged.edition_code,
    flagged.question_code,
    questions.question_key,
    questions.theme_code,
    questions.order_in_theme,
    questions.wording_fr,
    questions.wording_status,
    questions.transverse_codes,
    cast(flagged.n_respondents as {{ dbt.type_int() }})   as n_respondents,
    cast(flagged.n_answering as {{ dbt.type_int() }})     as n_answering,
    cast(flagged.n_not_concerned as {{ dbt.type_int() }}) as n_not_concerned,
    cast(flagged.n_no_answer as {{ dbt.type_int() }})     as n_no_answer,
    {% for l in range(1, max_levels + 1) -%}
    cast({{ suppressed_value(safe_share('flagged.n_level_' ~ l, 'flagged.n_answering'), 'flagged.is_suppressed') }}
        as {{ type_double() }}) as share_level_{{ l }},
    {% endfor -%}
    {% for l in range(1, max_levels + 1) -%}
    cast({{ suppressed_value('flagged.pct_level_' ~ l, 'flagged.is_suppressed') }} as {{ dbt.type_int() }})
        as pct_level_{{ l }},
    {% endfor -%}
    cast({{ suppressed_value('flagged.pct_sum', 'flagged.is_suppressed') }} as {{ dbt.type_int() }}) as pct_sum,
    {% for code, cond in stages -%}
    cast({{ suppressed_value(safe_share('flagged.n_stage_' ~ code, 'flagged.n_answering'), 'flagged.is_suppressed') }}
        as {{ type_double() }}) as share_stage_{{ code }},
    {% endfor -%}
    {% for code, cond in stages -%}
    cast({{ suppressed_value('flagged.pct_stage_' ~ code, 'flagged.is_suppressed') }} as {{ dbt.type_int() }})
        as pct_stage_{{ code }},
    {% endfor -%}
    cast({{ suppressed_value('flagged.mean_level', 'flagged.is_suppressed') }} as {{ type_double() }}) as mean_level,
    cast({{ suppressed_value('flagged.mean_level_harmonised', 'flagged.is_suppressed') }} as {{ type_double() }})
        as mean_level_harmonised,
    flagged.is_suppressed,
    cast(flagged.suppression_reason as {{ dbt.type_string() }}) as suppression_reason,
    -- labels for the BI tools (appended: the columns above keep their order and values)
    cast(editions.edition_year as {{ dbt.type_int() }}) as edition_year,
    cast(themes.label_fr as {{ dbt.type_string() }}) as theme_label_fr,
    cast({{ code_label('wording_status', 'questions.wording_status') }} as {{ dbt.type_string() }})
        as wording_status_label_fr,
    cast({{ code_label('suppression_reason', 'flagged.suppression_reason') }} as {{ dbt.type_string() }})
        as suppression_reason_label_fr
from flagged
left join questions
    on  flagged.edition_code = questions.edition_code
    and flagged.question_code = questions.question_code
left join themes
    on  questions.edition_code = themes.edition_code
    and questions.theme_code = themes.theme_code
left join editions
    on flagged.edition_code = editions.edition_code
