-- Pair of editions × comparison level (QUESTION, THEME) × subject × panel × side: the
-- figures of one edition ("side" FROM = earlier, TO = later) on the perimeter of the
-- questions identical in both editions (same question_key). Levels are harmonised to
-- the common 5-level scale (fct_answers.level_harmonised); the share at >= 4 uses the
-- stage ("La mise en œuvre est en cours" or beyond), which means the same in both
-- scales.
--   panel ALL      every respondent of that edition
--   panel MATCHED  respondents present in both editions of the pair
--   QUESTION: n = respondents answering the question; share_ge_4 = answers at >= 4 / n;
--             mean_harmonised = mean harmonised level.
--   THEME:    n = respondents answering at least one perimeter question of the theme;
--             share_ge_4 pooled over their answers on the perimeter questions;
--             mean_harmonised = mean of the respondents' means on those questions.
-- Incremental by pair of editions (macros/edition_incremental.sql,
-- edition_pair_marks_from): a pair is computed again when either edition was rebuilt
-- in fct_answers or its perimeter changed; with one edition changed out of ten, 9 of
-- the 45 pairs are. A table read by mart_edition_comparison and its unique test.
{%- set marks_spec = {
    'pairs': 'int_edition_pairs',
    'upstream': 'fct_answers',
    'digest': {
        'relation': 'int_edition_comparison__perimeter',
        'columns': ['question_key', 'theme_code', 'question_code_from', 'question_code_to'],
        'order_by': 'question_key'
    }
} %}
{{ edition_pair_incremental_config(marks_spec) }}

with marks as (

    {{ edition_pair_marks_from(marks_spec) }}

),

pairs as (

    select * from {{ ref('int_edition_pairs') }}
    {{ changed_edition_pairs_only('edition_code_from', 'edition_code_to') }}

),

-- only the columns the sides read, and answered cells only: this relation is read twice
-- (FROM and TO), so engines may materialise it (DuckDB does), and every other column of
-- the answer-level table would be copied with it
answers as (

    select
        edition_code,
        question_code,
        respondent_id,
        level_harmonised,
        is_stage_ge_4
    from {{ ref('fct_answers') }}
    where answer_state = 'answered'

),

respondent_editions as (

    select * from {{ ref('dim_respondent_editions') }}

),

perimeter as (

    select perimeter.*
    from {{ ref('int_edition_comparison__perimeter') }} as perimeter
    inner join pairs
        on  perimeter.edition_code_from = pairs.edition_code_from
        and perimeter.edition_code_to = pairs.edition_code_to

),


matched as (

    select
        pairs.edition_code_from,
        pairs.edition_code_to,
        r_from.respondent_id
    from pairs
    inner join respondent_editions as r_from
        on pairs.edition_code_from = r_from.edition_code
    inner join respondent_editions as r_to
        on  pairs.edition_code_to = r_to.edition_code
        and r_from.respondent_id = r_to.respondent_id

),

side_answers as (

    select
        perimeter.edition_code_from,
        perimeter.edition_code_to,
        perimeter.question_key,
        perimeter.theme_code,
        'FROM' as side,
        answers.respondent_id,
        answers.level_harmonised,
        answers.is_stage_ge_4
    from perimeter
    inner join answers
        on  perimeter.edition_code_from = answers.edition_code
        and perimeter.question_code_from = answers.question_code

    union all

    select
        perimeter.edition_code_from,
        perimeter.edition_code_to,
        perimeter.question_key,
        perimeter.theme_code,
        'TO' as side,
        answers.respondent_id,
        answers.level_harmonised,
        answers.is_stage_ge_4
    from perimeter
    inner join answers
        on  perimeter.edition_code_to = answers.edition_code
        and perimeter.question_code_to = answers.question_code

),

panel_answers as (

    select
        side_answers.*,
        'ALL' as panel_code
    from side_answers

    union all

    select
        side_answers.*,
        'MATCHED' as panel_code
    from side_answers
    inner join matched
        on  side_answers.edition_code_from = matched.edition_code_from
        and side_answers.edition_code_to = matched.edition_code_to
        and side_answers.respondent_id = matched.respondent_id

),

question_sides as (

    select
        edition_code_from,
        edition_code_to,
        'QUESTION' as comparison_level,
        question_key as subject_code,
        max(theme_code) as theme_code,
        panel_code,
        side,
        count(*) as n_respondents,
        sum(case when is_stage_ge_4 then 1 else 0 end) as n_answers_ge_4,
        count(*) as n_answers,
        {{ stable_avg('level_harmonised') }} as mean_harmonised
    from panel_answers
    group by edition_code_from, edition_code_to, question_key, panel_code, side

),

respondent_theme as (

    select
        edition_code_from,
        edition_code_to,
        theme_code,
        panel_code,
        side,
        respondent_id,
        count(*) as n_answers,
        sum(case when is_stage_ge_4 then 1 else 0 end) as n_answers_ge_4,
        {{ stable_avg('level_harmonised') }} as mean_harmonised
    from panel_answers
    group by edition_code_from, edition_code_to, theme_code, panel_code, side, respondent_id

),

theme_sides as (

    select
        edition_code_from,
        edition_code_to,
        'THEME' as comparison_level,
        theme_code as subject_code,
        theme_code,
        panel_code,
        side,
        count(*) as n_respondents,
        sum(n_answers_ge_4) as n_answers_ge_4,
        sum(n_answers) as n_answers,
        {{ stable_avg('mean_harmonised') }} as mean_harmonised
    from respondent_theme
    group by edition_code_from, edition_code_to, theme_code, panel_code, side

),

sides as (

    select * from question_sides
    union all
    select * from theme_sides

)

select
    cast(sides.edition_code_from as {{ dbt.type_string() }}) as edition_code_from,
    cast(sides.edition_code_to as {{ dbt.type_string() }})   as edition_code_to,
    cast(sides.comparison_level as {{ dbt.type_string() }})  as comparison_level,
    cast(sides.subject_code as {{ dbt.type_string() }})      as subject_code,
    cast(sides.theme_code as {{ dbt.type_string() }})        as theme_code,
    cast(sides.panel_code as {{ dbt.type_string() }})        as panel_code,
    cast(sides.side as {{ dbt.type_string() }})              as side,
    cast(sides.n_respondents as {{ dbt.type_int() }})        as n_respondents,
    cast(sides.n_answers as {{ dbt.type_int() }})            as n_answers,
    cast(sides.n_answers_ge_4 as {{ dbt.type_int() }})       as n_answers_ge_4,
    cast(sides.mean_harmonised as {{ type_double() }}) as mean_harmonised,
    marks.edition_build_mark
from sides
inner join marks
    on  sides.edition_code_from = marks.edition_code_from
    and sides.edition_code_to = marks.edition_code_to
