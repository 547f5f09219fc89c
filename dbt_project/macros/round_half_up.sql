{#
  Rounding "as the report rounds": half up, to whole percent.

  round_half_up_pct(numerator, denominator) = floor(100·numerator/denominator + 0.5),
  an integer percentage. The division is done in double precision on 100·numerator
  first: when the exact percentage ends in .5 (200·numerator = odd·denominator) the
  quotient is exactly representable, so IEEE division returns it exactly and the
  half is never lost to a representation error (1/40 → 2.5 → 3, 1/8 → 12.5 → 13).
  SQL round() is not used: its rule for halves differs between engines (half-even on
  some), and it would be applied to an already inexact share.
  NULL when the denominator is 0 or NULL.

  round_half_up(x, digits) = floor(x·10^digits + 0.5) / 10^digits, for other values.
#}
{% macro round_half_up_pct(numerator, denominator) -%}
    case
        when {{ denominator }} is null or {{ denominator }} = 0 then null
        else cast(
            floor(cast(100 * ({{ numerator }}) as {{ type_double() }}) / ({{ denominator }}) + 0.5)
            as {{ dbt.type_int() }}
        )
    end
{%- endmacro %}

{% macro round_half_up(x, digits=0) -%}
    {%- set factor = 10 ** digits -%}
    (floor(cast({{ x }} as {{ type_double() }}) * {{ factor }} + 0.5) / {{ factor }})
{%- endmacro %}
