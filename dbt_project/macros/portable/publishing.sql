{#
  The schema a model of custom schema `name` is built in.
  DuckDB (default): `name` itself; publishing copies the marts into a separate
  read-only file (orchestration/barometre/publish.py).
  PostgreSQL: the marts are built in `marts_build` and swapped into `marts` in one
  transaction once every blocking check passed (orchestration/barometre/postgres/
  publish.py), so BI readers of `marts` never see a build in progress.
#}
{% macro build_schema_name(name) -%}
    {{ return(adapter.dispatch('build_schema_name', 'barometre')(name)) }}
{%- endmacro %}

{% macro default__build_schema_name(name) -%}
    {{ return(name) }}
{%- endmacro %}

{% macro postgres__build_schema_name(name) -%}
    {{ return('marts_build' if name == 'marts' else name) }}
{%- endmacro %}
