{#
  Order-independent (deterministic) mean and standard deviation of a double expression.

  A sum of doubles depends on the order of the additions, and a parallel engine adds in
  whatever order its threads finish: two builds of the same data could then differ in
  the last bit of a mean, and so in a rank tie or a cell compared for equality. These
  macros round each value to 12 decimals in an exact numeric type first (deterministic),
  add exactly, and only then divide in double precision:
    stable_avg(x)        = sum(x12) / count(x12)
    stable_stddev_samp(x) = sqrt((sum(x12²) − sum(x12)²/n) / (n − 1)), NULL when n < 2
  (x12 = x rounded to 12 decimals; the rounding is far below anything published.)
  Aggregates over integer levels need none of this: their sums are exact anyway.
#}
{% macro type_exact_numeric() -%}
    {{ return(adapter.dispatch('type_exact_numeric', 'barometre')()) }}
{%- endmacro %}

{% macro default__type_exact_numeric() -%}
    numeric(38, 12)
{%- endmacro %}

{% macro duckdb__type_exact_numeric() -%}
    decimal(38, 12)
{%- endmacro %}

{% macro stable_avg(expression) -%}
    cast(
        cast(sum(cast({{ expression }} as {{ type_exact_numeric() }})) as {{ type_double() }})
        / nullif(count(cast({{ expression }} as {{ type_exact_numeric() }})), 0)
        as {{ type_double() }}
    )
{%- endmacro %}

{% macro stable_stddev_samp(expression) -%}
    case
        when count({{ expression }}) >= 2 then sqrt(
            case
                when (
                    cast(sum(cast(({{ expression }}) * ({{ expression }}) as {{ type_exact_numeric() }})) as {{ type_double() }})
                    - cast(sum(cast({{ expression }} as {{ type_exact_numeric() }})) as {{ type_double() }})
                    * cast(sum(cast({{ expression }} as {{ type_exact_numeric() }})) as {{ type_double() }})
                    / count({{ expression }})
                ) > 0
                then (
                    cast(sum(cast(({{ expression }}) * ({{ expression }}) as {{ type_exact_numeric() }})) as {{ type_double() }})
                    - cast(sum(cast({{ expression }} as {{ type_exact_numeric() }})) as {{ type_double() }})
                    * cast(sum(cast({{ expression }} as {{ type_exact_numeric() }})) as {{ type_double() }})
                    / count({{ expression }})
                ) / (count({{ expression }}) - 1)
                else 0
            end
        )
    end
{%- endmacro %}
