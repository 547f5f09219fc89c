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
-- the cells with their suppression. A table: the search, pass 0 and the segmented
-- model read it.
{{ config(materialized='table') }}

with respondent_subjects as (

    select * from {{ ref('int_respondent_subject_maturity') }}
    where n_answered > 0

),

segments as (

    select * from {{ ref('int_respondent_segments') }}

),

cells as (

    select
        respondent_subjects.edition_code,
        respondent_subjects.subject_type,
        respondent_subjects.subject_code,
        segments.segment_type,
        segments.segment_code,
        max(segments.segment_label_fr) as segment_label_fr,
        max(segments.segment_order) as segment_order,
        count(*) as n_respondents,
        sum(respondent_subjects.n_answered) as n_answers,
        {{ stable_avg('respondent_subjects.mean_level') }} as mean_maturity,
        {{ median('respondent_subjects.mean_level') }} as median_maturity,
        {{ stable_stddev_samp('respondent_subjects.mean_level') }} as sd_maturity,
        {{ stable_avg('respondent_subjects.mean_level_harmonised') }} as mean_maturity_harmonised,
        {{ stable_avg('respondent_subjects.mean_score_0_100') }} as mean_score_0_100,
        {% for stage in ['eq_1', 'le_2', 'ge_3', 'ge_4', 'ge_5', 'eq_6'] -%}
        sum(respondent_subjects.n_stage_{{ stage }}) as n_stage_{{ stage }},
        {% endfor -%}
        sum(case when respondent_subjects.mean_level >= 3 then 1 else 0 end) as n_respondents_mean_ge_3,
        sum(case when respondent_subjects.mean_level >= 4 then 1 else 0 end) as n_respondents_mean_ge_4
    from respondent_subjects
    inner join segments
        on  respondent_subjects.edition_code = segments.edition_code
        and respondent_subjects.respondent_id = segments.respondent_id
    group by
        respondent_subjects.edition_code,
        respondent_subjects.subject_type,
        respondent_subjects.subject_code,
        segments.segment_type,
        segments.segment_code

)

select
    cells.*,
    {{ dbt.concat(['cells.segment_type', "':'", 'cells.segment_code']) }} as cell_id,
    case when cells.segment_type = 'ALL' then 1 else 0 end as is_protected
from cells
