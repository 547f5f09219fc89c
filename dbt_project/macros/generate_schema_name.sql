{#
  Use a model's custom schema verbatim (staging, intermediate, core, marts, restricted,
  reference) instead of dbt's default "<target schema>_<custom schema>".
  Nodes without a custom schema land in the target schema (`main`).
  Where the target publishes inside the warehouse itself (PostgreSQL), a schema may be
  built under another name first: build_schema_name (macros/portable/publishing.sql).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ build_schema_name(custom_schema_name | trim) }}
    {%- endif -%}
{%- endmacro %}
