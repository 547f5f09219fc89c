{#
  Median of a numeric expression, as an aggregate (use with GROUP BY).
  Standard SQL: percentile_cont(0.5) WITHIN GROUP (ORDER BY x) (PostgreSQL, Snowflake,
  Redshift, SQL Server as a window function only, ...); DuckDB: median(x), which is
  the same continuous median (mean of the two middle values for an even count).
#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'barometre')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__median(expression) -%}
    median({{ expression }})
{%- endmacro %}
