-- sqlfluff:exclude_rules:LT01,ST06,RF03,RF04,ST02,LT02
-- Edition × question × level: mart_question_distribution in long format, one row per
-- level of the edition's scale (levels nobody chose included, n_at_level = 0), with the
-- labels a chart needs, so a stacked bar is one query:
--     select … from marts.mart_question_level_distribution
--     where edition_code = '2021' and theme_code = 'T04'
--     order by order_in_theme, level
-- Shares, percentages and disclosure control are those of mart_question_distribution
-- (read from it, not recomputed): a suppressed question keeps its level rows, with
-- n_at_level, share_at_level and pct_at_level NULL and its is_suppressed /
-- suppression_reason. The counts per level come from int_question_levels__counted, the
-- one home of the counts mart_question_distribution pivots.
{# share_level_1 … share_level_6 of mart_question_distribution (its max_levels) -#}
{% set max_levels = 6 -%}
with distribution as (

    select * from {{ ref('mart_question_distribution') }}

),

level_counts as (

    select * from {{ ref('int_question_levels__counted') }}

),

scale_levels as (

    select * from {{ ref('dim_scale_levels') }}

),

themes as (

    select * from {{ ref('dim_themes') }}

),

editions as (

    select * from {{ ref('dim_editions') }}

),

question_levels as (

    select
        distribution.*,
        level_counts.level,
        level_counts.n_at_level,
        scale_levels.label_fr as level_label_fr,
        scale_levels.stage_code,
        scale_levels.stage_order,
        scale_levels.stage_label_fr,
        case
            {% for l in range(1, max_levels + 1) -%}
            when scale_levels.level = {{ l }} then distribution.share_level_{{ l }}
            {% endfor -%}
        end as share_at_level,
        case
            {% for l in range(1, max_levels + 1) -%}
            when scale_levels.level = {{ l }} then distribution.pct_level_{{ l }}
            {% endfor -%}
        end as pct_at_level
    from distribution
    inner join level_counts
        on  distribution.edition_code = level_counts.edition_code
        and distribution.question_code = level_counts.question_code
    inner join scale_levels
        on  level_counts.edition_code = scale_levels.edition_code
        and level_counts.level = scale_levels.level

)

select
    question_levels.edition_code,
    editions.edition_year,
    question_levels.theme_code,
    themes.theme_number,
    cast(themes.label_fr as {{ dbt.type_string() }}) as theme_label_fr,
    question_levels.question_code,
    question_levels.question_key,
    question_levels.order_in_theme,
    question_levels.wording_fr,
    cast(question_levels.level as {{ dbt.type_int() }}) as level,
    cast(question_levels.level_label_fr as {{ dbt.type_string() }}) as level_label_fr,
    cast(question_levels.stage_code as {{ dbt.type_string() }}) as stage_code,
    cast(question_levels.stage_order as {{ dbt.type_int() }}) as stage_order,
    cast(question_levels.stage_label_fr as {{ dbt.type_string() }}) as stage_label_fr,
    question_levels.n_answering,
    cast({{ suppressed_value('question_levels.n_at_level', 'question_levels.is_suppressed') }}
        as {{ dbt.type_int() }}) as n_at_level,
    cast(question_levels.share_at_level as {{ type_double() }}) as share_at_level,
    cast(question_levels.pct_at_level as {{ dbt.type_int() }}) as pct_at_level,
    question_levels.is_suppressed,
    question_levels.suppression_reason,
    -- labels for the BI tools (appended: the columns above keep their order and values)
    cast({{ code_label('suppression_reason', 'question_levels.suppression_reason') }} as {{ dbt.type_string() }})
        as suppression_reason_label_fr
from question_levels
left join themes
    on  question_levels.edition_code = themes.edition_code
    and question_levels.theme_code = themes.theme_code
left join editions
    on question_levels.edition_code = editions.edition_code
