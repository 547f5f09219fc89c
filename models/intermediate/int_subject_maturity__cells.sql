-- Edition × subject (theme or transverse theme) × segment: the cells of the subject
-- marts before disclosure control, aggregates of the respondents' subject maturities
-- (computed on every respondent with at least one answered question on the subject).
--   mean_maturity      mean of the respondents' subject means (edition's own scale);
--                      means and sd use the order-independent stable_avg /
--                      stable_stddev_samp macros, so two builds give identical values
--   median_maturity    median of the same (adapter-dispatched macro median)
--   n_stage_*          pooled answers: answered cells of the subject at the stage
--   n_respondents_mean_ge_*  respondents whose subject mean reaches 3 / 4
-- cell_id (segment_type:segment_code) and is_protected (the ALL cell, never chosen for
-- secondary suppression) key the cell for the suppression passes
-- (int_subject_maturity__suppression_pass_*); int_subject_maturity__segmented publishes
-- the cells with their suppression.
-- Incremental by edition (macros/edition_incremental.sql, edition_marks_from), from
-- the respondents of each cell (int_subject_maturity__memberships).
{%- set marks_spec = {'upstream': 'int_subject_maturity__memberships'} %}
{{ edition_incremental_config(marks_spec) }}

with marks as (

    {{ edition_marks_from(marks_spec) }}

),

memberships as (

    select * from {{ ref('int_subject_maturity__memberships') }}
    {{ changed_editions_only('edition_code') }}

),

cells as (

    select
        edition_code,
        subject_type,
        subject_code,
        segment_type,
        segment_code,
        max(segment_label_fr) as segment_label_fr,
        max(segment_order) as segment_order,
        count(*) as n_respondents,
        sum(n_answered) as n_answers,
        {{ stable_avg('mean_level') }} as mean_maturity,
        {{ median('mean_level') }} as median_maturity,
        {{ stable_stddev_samp('mean_level') }} as sd_maturity,
        {{ stable_avg('mean_level_harmonised') }} as mean_maturity_harmonised,
        {{ stable_avg('mean_score_0_100') }} as mean_score_0_100,
        {% for stage in ['eq_1', 'le_2', 'ge_3', 'ge_4', 'ge_5', 'eq_6'] -%}
        sum(n_stage_{{ stage }}) as n_stage_{{ stage }},
        {% endfor -%}
        sum(case when mean_level >= 3 then 1 else 0 end) as n_respondents_mean_ge_3,
        sum(case when mean_level >= 4 then 1 else 0 end) as n_respondents_mean_ge_4
    from memberships
    group by
        edition_code,
        subject_type,
        subject_code,
        segment_type,
        segment_code
)

select
    cells.*,
    {{ dbt.concat(['cells.segment_type', "':'", 'cells.segment_code']) }} as cell_id,
    case when cells.segment_type = 'ALL' then 1 else 0 end as is_protected,
    marks.edition_build_mark
from cells
inner join marks
    on cells.edition_code = marks.edition_code
