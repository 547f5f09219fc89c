{#
  dbt.listagg on Spark. dbt-spark's implementation ignores order_by_clause
  (collect_list, in whatever order the partitions arrive), so a list such as a
  question's transverse codes or a disclosure atom's signature would not be
  deterministic. Spark 4 has the standard ordered aggregate, LISTAGG … WITHIN GROUP,
  used here (found first through the `dispatch` search order of dbt_project.yml).
#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with limit_num is not implemented for Spark in this project") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}
