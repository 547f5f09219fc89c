-- Every code a mart publishes has its French label (seed code_labels, macro code_label):
-- a row per mart × code column × code whose label column is NULL while the code is not.
-- Fails when an edition or a rule brings a new code (a report group, a suppression
-- reason) without its row in seeds/code_labels.csv.
-- Shown in Dagster as an asset check of mart_question_distribution (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'mart_question_distribution'}}}) }}
{%- set checks = [
    ('mart_question_distribution', 'wording_status', 'wording_status_label_fr'),
    ('mart_question_distribution', 'theme_code', 'theme_label_fr'),
    ('mart_question_distribution', 'suppression_reason', 'suppression_reason_label_fr'),
    ('mart_question_level_distribution', 'suppression_reason', 'suppression_reason_label_fr'),
    ('mart_question_level_distribution', 'stage_code', 'stage_label_fr'),
    ('mart_question_level_distribution', 'theme_code', 'theme_label_fr'),
    ('mart_theme_maturity', 'segment_type', 'segment_type_label_fr'),
    ('mart_theme_maturity', 'segment_type', 'segment_type_display_order'),
    ('mart_theme_maturity', 'segment_code', 'segment_label_fr'),
    ('mart_theme_maturity', 'segment_code', 'segment_display_order'),
    ('mart_theme_maturity', 'theme_code', 'theme_label_fr'),
    ('mart_theme_maturity', 'suppression_reason', 'suppression_reason_label_fr'),
    ('mart_transverse_maturity', 'segment_type', 'segment_type_label_fr'),
    ('mart_transverse_maturity', 'segment_type', 'segment_type_display_order'),
    ('mart_transverse_maturity', 'segment_code', 'segment_label_fr'),
    ('mart_transverse_maturity', 'segment_code', 'segment_display_order'),
    ('mart_transverse_maturity', 'transverse_code', 'transverse_label_fr'),
    ('mart_transverse_maturity', 'suppression_reason', 'suppression_reason_label_fr'),
    ('mart_maturity_groups', 'group_level', 'group_level_label_fr'),
    ('mart_maturity_groups', 'maturity_group_code', 'maturity_group_label_fr'),
    ('mart_maturity_groups', 'parent_group_code', 'parent_group_label_fr'),
    ('mart_maturity_groups', 'suppression_reason', 'suppression_reason_label_fr'),
    ('mart_edition_comparison', 'comparison_level', 'comparison_level_label_fr'),
    ('mart_edition_comparison', 'subject_code', 'subject_label_fr'),
    ('mart_edition_comparison', 'theme_code', 'theme_label_fr'),
    ('mart_edition_comparison', 'panel_code', 'panel_label_fr'),
    ('mart_edition_comparison', 'panel_code', 'panel_display_order'),
    ('mart_edition_comparison', 'suppression_reason', 'suppression_reason_label_fr'),
] -%}
{%- for mart, code, label in checks %}
select
    '{{ mart }}' as mart,
    '{{ code }}' as code_column,
    '{{ label }}' as label_column,
    cast({{ code }} as {{ dbt.type_string() }}) as code,
    count(*) as n_rows
from {{ ref(mart) }}
where {{ code }} is not null and {{ label }} is null
group by {{ code }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
