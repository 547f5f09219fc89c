-- Nothing in schema marts names a respondent: no column carrying a respondent id, a
-- SIREN, an INSEE code, a response id or a collectivity name (the wide-audience marts
-- are aggregates; per-respondent results live in schema restricted). Reads the
-- catalogue (macro catalog_columns: information_schema, or Spark's DESCRIBE), so it
-- also catches a column added to a mart without its yml.
-- depends_on: {{ ref('mart_question_distribution') }}
-- depends_on: {{ ref('mart_theme_maturity') }}
-- depends_on: {{ ref('mart_transverse_maturity') }}
-- depends_on: {{ ref('mart_maturity_groups') }}
-- depends_on: {{ ref('mart_edition_comparison') }}
-- Shown in Dagster as an asset check of mart_question_distribution (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'mart_question_distribution'}}}) }}
{% set marts_schema = ref('mart_theme_maturity').schema %}
select
    _catalog.table_name,
    _catalog.column_name
from ({{ catalog_columns(marts_schema) }}) as _catalog
where
    lower(_catalog.column_name) like '%respondent_id%'
    or lower(_catalog.column_name) like '%siren%'
    or lower(_catalog.column_name) like '%insee%'
    or lower(_catalog.column_name) like '%response_id%'
    or lower(_catalog.column_name) like '%collectivity%'
    or lower(_catalog.column_name) like '%email%'
    or lower(_catalog.column_name) in ('name', 'name_variants', 'token', 'ip_address')
