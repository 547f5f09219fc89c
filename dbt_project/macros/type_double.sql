{#
  Double-precision floating point type, for means and shares.
  dbt.type_float() is single precision (FLOAT/REAL) on DuckDB, too coarse for averages.
#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'barometre')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}
