{#
  catalog_columns(schema): a SELECT of (table_name, column_name), one row per column of
  each table or view in `schema`, as the engine's catalogue has them (not as the YAML
  declares them): for tests that check what is really published
  (assert_marts_expose_no_respondent_identifier).
#}
{% macro catalog_columns(schema) -%}
    {{ return(adapter.dispatch('catalog_columns', 'barometre')(schema)) }}
{%- endmacro %}

{% macro default__catalog_columns(schema) -%}
select
    table_name,
    column_name
from information_schema.columns
where lower(table_schema) = lower('{{ schema }}')
{%- endmacro %}

{#
  Spark's session catalogue (Hive metastore) has no information_schema: the schema's
  tables (SHOW TABLES, temporary views left out) and each one's columns (DESCRIBE,
  adapter.get_columns_in_relation) are read when the test runs, and listed as VALUES;
  none while the schema does not exist (`dbt compile` before any build).
#}
{% macro spark__catalog_columns(schema) -%}
{%- set pairs = [] -%}
{%- if execute and adapter.check_schema_exists(none, schema) -%}
    {%- for row in run_query('show tables in ' ~ schema) -%}
        {%- if not row['isTemporary'] -%}
            {%- set relation = api.Relation.create(schema=schema, identifier=row['tableName']) -%}
            {%- for column in adapter.get_columns_in_relation(relation) -%}
                {%- do pairs.append((row['tableName'], column.name)) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
{%- if pairs -%}
select
    table_name,
    column_name
from values
    {% for table_name, column_name in pairs -%}
    ('{{ table_name | replace("'", "\\'") }}', '{{ column_name | replace("'", "\\'") }}'){{ "," if not loop.last }}
    {% endfor -%}
    as _catalog (table_name, column_name)
{%- else -%}
select
    cast(null as string) as table_name,
    cast(null as string) as column_name
where 1 = 0
{%- endif -%}
{%- endmacro %}
