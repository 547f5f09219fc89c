-- Edition × subject (theme or transverse theme) × segment × respondent: the respondents
-- of each cell of the subject marts (respondents with at least one answered question
-- on the subject, int_respondent_subject_maturity) with their subject figures. The one
-- home of cell membership: int_subject_maturity__cells aggregates it and
-- int_subject_maturity__disclosive searches its combinations of cells.
-- Incremental by edition (macros/edition_incremental.sql, edition_marks_from): an
-- edition is rebuilt when its respondents' subject figures or segments changed.
{%- set marks_spec = {
    'upstream': 'int_respondent_subject_maturity',
    'digests': [{
        'relation': 'int_respondent_segments',
        'columns': ['respondent_id', 'segment_type', 'segment_code', 'segment_label_fr', 'segment_order'],
        'order_by': 'respondent_id, segment_type, segment_code'
    }]
} %}
{{ edition_incremental_config(marks_spec) }}

with marks as (

    {{ edition_marks_from(marks_spec) }}

),

respondent_subjects as (

    select * from {{ ref('int_respondent_subject_maturity') }}
    {{ changed_editions_only('edition_code') }}

),

segments as (

    select * from {{ ref('int_respondent_segments') }}

)

select
    cast(respondent_subjects.edition_code as {{ dbt.type_string() }}) as edition_code,
    cast(respondent_subjects.subject_type as {{ dbt.type_string() }}) as subject_type,
    cast(respondent_subjects.subject_code as {{ dbt.type_string() }}) as subject_code,
    cast(segments.segment_type as {{ dbt.type_string() }}) as segment_type,
    cast(segments.segment_code as {{ dbt.type_string() }}) as segment_code,
    cast({{ dbt.concat(['segments.segment_type', "':'", 'segments.segment_code']) }} as {{ dbt.type_string() }})
        as cell_id,
    cast(segments.segment_label_fr as {{ dbt.type_string() }}) as segment_label_fr,
    cast(segments.segment_order as {{ dbt.type_int() }}) as segment_order,
    cast(respondent_subjects.respondent_id as {{ dbt.type_string() }}) as respondent_id,
    respondent_subjects.n_answered,
    respondent_subjects.mean_level,
    respondent_subjects.mean_level_harmonised,
    respondent_subjects.mean_score_0_100,
    {% for stage in ['eq_1', 'le_2', 'ge_3', 'ge_4', 'ge_5', 'eq_6'] -%}
    respondent_subjects.n_stage_{{ stage }},
    {% endfor -%}
    marks.edition_build_mark
from respondent_subjects
inner join segments
    on  respondent_subjects.edition_code = segments.edition_code
    and respondent_subjects.respondent_id = segments.respondent_id
inner join marks
    on respondent_subjects.edition_code = marks.edition_code
where respondent_subjects.n_answered > 0
