{#
  Spark (dbt-spark) reads the project's portable type names.

  Seeds' column_types and the marts' contract data_type are written once for every
  target (varchar, integer, double, boolean, date). Spark SQL rejects `varchar` without a
  length and `double precision`: spark_type() spells them as Spark does (string, double).
  dbt checks a contract by casting NULL to each declared type (dbt.cast, dispatched here
  through the `dispatch` search order of dbt_project.yml), so the contract itself is the
  same YAML on every engine; DuckDB and PostgreSQL keep dbt's own default__cast.
#}
{% macro spark_type(data_type) -%}
    {%- set spelled = data_type | trim | lower -%}
    {%- set base = spelled.split('(')[0] | trim -%}
    {%- if base in ['varchar', 'text', 'character varying', 'char', 'character'] -%}
        string
    {%- elif base in ['double precision', 'float8'] -%}
        double
    {%- else -%}
        {{ data_type }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ spark_type(type) }})
{%- endmacro %}
