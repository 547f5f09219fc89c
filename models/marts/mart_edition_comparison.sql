-- Pair of editions (earlier → later) × comparison level × subject × panel: the two
-- editions side by side on the perimeter of identical questions (same question_key).
--   comparison_level QUESTION: one identical question (subject_code = question_key);
--   comparison_level THEME: the identical questions of a theme (subject_code = theme_code).
--   panel ALL: every respondent of each edition (the panels differ);
--   panel MATCHED: only the collectivities that answered both editions.
-- Figures per side: n respondents, share of answers at stage >= 4 ("La mise en œuvre est
-- en cours" or beyond, same meaning on a 5- and a 6-level scale) and mean harmonised
-- level (2021 levels 5 and 6 → 5). Formulas: int_edition_comparison__sides.
-- Disclosure: a row is suppressed when either side has fewer than var min_cell_size
-- respondents ('small_cell'); a MATCHED row is suppressed ('complementary') when, on
-- either side, the respondents of ALL not in MATCHED are fewer than min_cell_size (else
-- their figures could be recovered from the two rows by difference).
{% set k = var('min_cell_size') -%}
with sides as (

    select * from {{ ref('int_edition_comparison__sides') }}

),

themes as (

    select * from {{ ref('dim_themes') }}

),

perimeter_questions as (

    select * from {{ ref('int_edition_comparison__perimeter') }}

),

perimeter_themes as (

    select
        edition_code_from,
        edition_code_to,
        theme_code,
        count(*) as n_perimeter_questions
    from perimeter_questions
    group by edition_code_from, edition_code_to, theme_code

),

panels as (

    select 'ALL' as panel_code
    union all
    select 'MATCHED' as panel_code

),

grid as (

    select
        perimeter_questions.edition_code_from,
        perimeter_questions.edition_code_to,
        'QUESTION' as comparison_level,
        perimeter_questions.question_key as subject_code,
        perimeter_questions.theme_code,
        perimeter_questions.question_key,
        perimeter_questions.question_code_from,
        perimeter_questions.question_code_to,
        perimeter_questions.wording_fr,
        1 as n_perimeter_questions,
        panels.panel_code
    from perimeter_questions
    cross join panels

    union all

    select
        perimeter_themes.edition_code_from,
        perimeter_themes.edition_code_to,
        'THEME' as comparison_level,
        perimeter_themes.theme_code as subject_code,
        perimeter_themes.theme_code,
        cast(null as {{ dbt.type_string() }}) as question_key,
        cast(null as {{ dbt.type_string() }}) as question_code_from,
        cast(null as {{ dbt.type_string() }}) as question_code_to,
        cast(null as {{ dbt.type_string() }}) as wording_fr,
        perimeter_themes.n_perimeter_questions,
        panels.panel_code
    from perimeter_themes
    cross join panels

),

side_by_side as (

    select
        grid.*,
        coalesce(s_from.n_respondents, 0) as n_respondents_from,
        s_from.n_answers      as n_answers_from,
        s_from.n_answers_ge_4 as n_answers_ge_4_from,
        s_from.mean_harmonised as mean_harmonised_from,
        coalesce(s_to.n_respondents, 0) as n_respondents_to,
        s_to.n_answers        as n_answers_to,
        s_to.n_answers_ge_4   as n_answers_ge_4_to,
        s_to.mean_harmonised  as mean_harmonised_to
    from grid
    left join sides as s_from
        on  grid.edition_code_from = s_from.edition_code_from
        and grid.edition_code_to = s_from.edition_code_to
        and grid.comparison_level = s_from.comparison_level
        and grid.subject_code = s_from.subject_code
        and grid.panel_code = s_from.panel_code
        and s_from.side = 'FROM'
    left join sides as s_to
        on  grid.edition_code_from = s_to.edition_code_from
        and grid.edition_code_to = s_to.edition_code_to
        and grid.comparison_level = s_to.comparison_level
        and grid.subject_code = s_to.subject_code
        and grid.panel_code = s_to.panel_code
        and s_to.side = 'TO'

),

flagged as (

    select
        cells.*,
        case
            when cells.n_respondents_from < {{ k }} or cells.n_respondents_to < {{ k }} then 'small_cell'
            when cells.panel_code = 'MATCHED'
                and (
                    (
                        all_panel.n_respondents_from - cells.n_respondents_from > 0
                        and all_panel.n_respondents_from - cells.n_respondents_from < {{ k }}
                    )
                    or (
                        all_panel.n_respondents_to - cells.n_respondents_to > 0
                        and all_panel.n_respondents_to - cells.n_respondents_to < {{ k }}
                    )
                )
                then 'complementary'
        end as suppression_reason
    from side_by_side as cells
    left join side_by_side as all_panel
        on  cells.edition_code_from = all_panel.edition_code_from
        and cells.edition_code_to = all_panel.edition_code_to
        and cells.comparison_level = all_panel.comparison_level
        and cells.subject_code = all_panel.subject_code
        and all_panel.panel_code = 'ALL'

),

published as (

    select
        flagged.*,
        case when suppression_reason is null then false else true end as is_suppressed,
        {{ safe_share('n_answers_ge_4_from', 'n_answers_from') }} as share_ge_4_from,
        {{ safe_share('n_answers_ge_4_to', 'n_answers_to') }} as share_ge_4_to
    from flagged

)

select
    cast(published.edition_code_from as {{ dbt.type_string() }}) as edition_code_from,
    cast(published.edition_code_to as {{ dbt.type_string() }})   as edition_code_to,
    cast(published.comparison_level as {{ dbt.type_string() }})  as comparison_level,
    cast(published.subject_code as {{ dbt.type_string() }})      as subject_code,
    cast(published.theme_code as {{ dbt.type_string() }})        as theme_code,
    cast(themes.label_fr as {{ dbt.type_string() }})             as theme_label_fr,
    cast(published.question_key as {{ dbt.type_string() }})      as question_key,
    cast(published.question_code_from as {{ dbt.type_string() }}) as question_code_from,
    cast(published.question_code_to as {{ dbt.type_string() }})  as question_code_to,
    cast(published.wording_fr as {{ dbt.type_string() }})        as wording_fr,
    cast(published.n_perimeter_questions as {{ dbt.type_int() }}) as n_perimeter_questions,
    cast(published.panel_code as {{ dbt.type_string() }})        as panel_code,
    cast(published.n_respondents_from as {{ dbt.type_int() }})   as n_respondents_from,
    cast({{ suppressed_value('share_ge_4_from') }} as {{ type_double() }}) as share_ge_4_from,
    cast({{ suppressed_value(round_half_up_pct('n_answers_ge_4_from', 'n_answers_from')) }} as {{ dbt.type_int() }})
        as pct_ge_4_from,
    cast({{ suppressed_value('mean_harmonised_from') }} as {{ type_double() }}) as mean_harmonised_from,
    cast(published.n_respondents_to as {{ dbt.type_int() }})     as n_respondents_to,
    cast({{ suppressed_value('share_ge_4_to') }} as {{ type_double() }}) as share_ge_4_to,
    cast({{ suppressed_value(round_half_up_pct('n_answers_ge_4_to', 'n_answers_to')) }} as {{ dbt.type_int() }})
        as pct_ge_4_to,
    cast({{ suppressed_value('mean_harmonised_to') }} as {{ type_double() }}) as mean_harmonised_to,
    cast({{ suppressed_value('share_ge_4_to - share_ge_4_from') }} as {{ type_double() }}) as diff_share_ge_4,
    cast({{ suppressed_value('mean_harmonised_to - mean_harmonised_from') }} as {{ type_double() }})
        as diff_mean_harmonised,
    published.is_suppressed,
    cast(published.suppression_reason as {{ dbt.type_string() }}) as suppression_reason,
    -- labels for the BI tools (appended: the columns above keep their order and values)
    cast(editions_from.edition_year as {{ dbt.type_int() }}) as edition_year_from,
    cast(editions_to.edition_year as {{ dbt.type_int() }}) as edition_year_to,
    cast({{ code_label('comparison_level', 'published.comparison_level') }} as {{ dbt.type_string() }})
        as comparison_level_label_fr,
    cast(
        case when published.comparison_level = 'QUESTION' then published.wording_fr else themes.label_fr end
        as {{ dbt.type_string() }}
    ) as subject_label_fr,
    cast({{ code_label('panel_code', 'published.panel_code') }} as {{ dbt.type_string() }}) as panel_label_fr,
    cast({{ code_label('panel_code', 'published.panel_code', 'display_order') }} as {{ dbt.type_int() }})
        as panel_display_order,
    cast({{ code_label('suppression_reason', 'published.suppression_reason') }} as {{ dbt.type_string() }})
        as suppression_reason_label_fr
from published
left join themes
    on  published.edition_code_to = themes.edition_code
    and published.theme_code = themes.theme_code
left join {{ ref('dim_editions') }} as editions_from
    on published.edition_code_from = editions_from.edition_code
left join {{ ref('dim_editions') }} as editions_to
    on published.edition_code_to = editions_to.edition_code
