{#
  numerator / denominator in double precision; NULL when the denominator is 0 or NULL.
  (Integer division truncates on some engines: always divide doubles.)
#}
{% macro safe_share(numerator, denominator) -%}
    case
        when {{ denominator }} is null or {{ denominator }} = 0 then null
        else cast({{ numerator }} as {{ type_double() }}) / cast({{ denominator }} as {{ type_double() }})
    end
{%- endmacro %}
