-- Edition × subject (theme or transverse theme) × segment: the cells
-- (int_subject_maturity__cells) as published, with disclosure control and the ranking
-- of subjects. Feeds mart_theme_maturity (subject_type THEME) and
-- mart_transverse_maturity (TRANSVERSE).
--   ci_low / ci_high   mean ± z·sd/√n (normal approximation, z = var ci_z), NULL if n < 2
--   share_stage_*      pooled answers: answered cells of the subject at the stage,
--                      over all answered cells of the subject in the segment
--   share_respondents_mean_ge_*  respondents whose subject mean reaches 3 / 4
-- Disclosure control (docs/marts/disclosure-control.md): cells of fewer than var
-- min_cell_size respondents are suppressed; within each segment type (a partition of
-- the ALL cell), further cells until the suppressed ones are at least two and hold at
-- least min_cell_size respondents; then, since report groups and population bands
-- cross, cells until no ±1 combination of up to var disclosure_max_linked_cells
-- published cells of the edition and subject isolates 1 … min_cell_size − 1 respondents
-- (the ALL cell is never chosen). The combinations are searched once
-- (int_subject_maturity__disclosive), each pass is a model of its own
-- (int_subject_maturity__suppression_pass_0 … _<disclosure_linked_passes>), and this
-- model reads the last pass's state (int_subject_maturity__suppressed). Suppressed
-- cells have their figures nulled here.
-- Ranks are computed among unsuppressed cells of the same edition ×
-- subject type × segment.
-- A table, not a view: two marts and their tests read it.
{{ config(materialized='table') }}

with edition_scales as (

    -- highest stage of each edition's scale: the "=6" share is NULL on a scale
    -- without stage 6 (2018), rather than a misleading 0
    select
        edition_code,
        max(stage_order) as max_stage_order
    from {{ ref('dim_scale_levels') }}
    group by edition_code

),

flagged as (

    select
        cells.*,
        suppression.is_suppressed,
        suppression.suppression_reason
    from {{ ref('int_subject_maturity__cells') }} as cells
    inner join {{ ref('int_subject_maturity__suppressed') }} as suppression
        on  cells.edition_code = suppression.edition_code
        and cells.subject_type = suppression.subject_type
        and cells.subject_code = suppression.subject_code
        and cells.cell_id = suppression.cell_id

),

published as (

    select
        edition_code,
        subject_type,
        subject_code,
        segment_type,
        segment_code,
        segment_label_fr,
        segment_order,
        n_respondents,
        {{ suppressed_value('n_answers') }} as n_answers,
        {{ suppressed_value('mean_maturity') }} as mean_maturity,
        {{ suppressed_value('median_maturity') }} as median_maturity,
        {{ suppressed_value('sd_maturity') }} as sd_maturity,
        case
            when not is_suppressed and n_respondents >= 2
                then mean_maturity - {{ var('ci_z') }} * sd_maturity / sqrt(cast(n_respondents as {{ type_double() }}))
        end as ci_low,
        case
            when not is_suppressed and n_respondents >= 2
                then mean_maturity + {{ var('ci_z') }} * sd_maturity / sqrt(cast(n_respondents as {{ type_double() }}))
        end as ci_high,
        {{ suppressed_value('mean_maturity_harmonised') }} as mean_maturity_harmonised,
        {{ suppressed_value('mean_score_0_100') }} as mean_score_0_100,
        {% for stage in ['eq_1', 'le_2', 'ge_3', 'ge_4', 'ge_5', 'eq_6'] -%}
        {{ suppressed_value(safe_share('n_stage_' ~ stage, 'n_answers')) }} as share_stage_{{ stage }},
        {% endfor -%}
        {{ suppressed_value(safe_share('n_respondents_mean_ge_3', 'n_respondents')) }} as share_respondents_mean_ge_3,
        {{ suppressed_value(safe_share('n_respondents_mean_ge_4', 'n_respondents')) }} as share_respondents_mean_ge_4,
        is_suppressed,
        suppression_reason
    from flagged

),

published_scaled as (

    select
        published.edition_code,
        published.subject_type,
        published.subject_code,
        published.segment_type,
        published.segment_code,
        published.segment_label_fr,
        published.segment_order,
        published.n_respondents,
        published.n_answers,
        published.mean_maturity,
        published.median_maturity,
        published.sd_maturity,
        published.ci_low,
        published.ci_high,
        published.mean_maturity_harmonised,
        published.mean_score_0_100,
        published.share_stage_eq_1,
        published.share_stage_le_2,
        published.share_stage_ge_3,
        published.share_stage_ge_4,
        published.share_stage_ge_5,
        case when edition_scales.max_stage_order >= 6 then published.share_stage_eq_6 end as share_stage_eq_6,
        published.share_respondents_mean_ge_3,
        published.share_respondents_mean_ge_4,
        published.is_suppressed,
        published.suppression_reason
    from published
    left join edition_scales
        on published.edition_code = edition_scales.edition_code

),

ranked as (

    select
        published_scaled.*,
        case
            when not is_suppressed then
                rank() over (
                    partition by edition_code, subject_type, segment_type, segment_code, is_suppressed
                    order by mean_maturity desc
                )
        end as rank_desc,
        case
            when not is_suppressed then
                rank() over (
                    partition by edition_code, subject_type, segment_type, segment_code, is_suppressed
                    order by mean_maturity asc
                )
        end as rank_asc,
        case
            when not is_suppressed then
                count(*) over (
                    partition by edition_code, subject_type, segment_type, segment_code, is_suppressed
                )
        end as n_ranked
    from published_scaled

)

select
    cast(edition_code as {{ dbt.type_string() }})     as edition_code,
    cast(subject_type as {{ dbt.type_string() }})     as subject_type,
    cast(subject_code as {{ dbt.type_string() }})     as subject_code,
    cast(segment_type as {{ dbt.type_string() }})     as segment_type,
    cast(segment_code as {{ dbt.type_string() }})     as segment_code,
    cast(segment_label_fr as {{ dbt.type_string() }}) as segment_label_fr,
    cast(segment_order as {{ dbt.type_int() }})       as segment_order,
    cast(n_respondents as {{ dbt.type_int() }})       as n_respondents,
    cast(n_answers as {{ dbt.type_int() }})           as n_answers,
    cast(mean_maturity as {{ type_double() }})        as mean_maturity,
    cast(median_maturity as {{ type_double() }})      as median_maturity,
    cast(sd_maturity as {{ type_double() }})          as sd_maturity,
    cast(ci_low as {{ type_double() }})               as ci_low,
    cast(ci_high as {{ type_double() }})              as ci_high,
    cast(mean_maturity_harmonised as {{ type_double() }}) as mean_maturity_harmonised,
    cast(mean_score_0_100 as {{ type_double() }})     as mean_score_0_100,
    {% for stage in ['eq_1', 'le_2', 'ge_3', 'ge_4', 'ge_5', 'eq_6'] -%}
    cast(share_stage_{{ stage }} as {{ type_double() }}) as share_stage_{{ stage }},
    {% endfor -%}
    cast(share_respondents_mean_ge_3 as {{ type_double() }}) as share_respondents_mean_ge_3,
    cast(share_respondents_mean_ge_4 as {{ type_double() }}) as share_respondents_mean_ge_4,
    cast(rank_desc as {{ dbt.type_int() }})           as rank_in_edition,
    cast(n_ranked as {{ dbt.type_int() }})            as n_ranked,
    case when rank_desc is null then null else rank_desc <= 3 end as is_top_3,
    case when rank_asc is null then null else rank_asc <= 3 end   as is_bottom_3,
    is_suppressed,
    cast(suppression_reason as {{ dbt.type_string() }}) as suppression_reason
from ranked
