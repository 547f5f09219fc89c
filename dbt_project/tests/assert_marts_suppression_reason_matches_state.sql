-- Disclosure control states its reason: in every wide-audience mart a suppressed cell
-- carries a suppression_reason (its values are of accepted_values in the mart's YAML) and
-- a published cell none. One row per mart with offending cells.
-- Shown in Dagster as an asset check of mart_theme_maturity (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'mart_theme_maturity'}}}) }}
{%- set marts = [
    'mart_question_distribution',
    'mart_question_level_distribution',
    'mart_theme_maturity',
    'mart_transverse_maturity',
    'mart_maturity_groups',
    'mart_edition_comparison',
] %}
{%- for mart in marts %}
select
    '{{ mart }}' as mart,
    count(*) as n_cells
from {{ ref(mart) }}
where is_suppressed <> (suppression_reason is not null)
having count(*) > 0
{% if not loop.last %}union all{% endif %}
{%- endfor %}
