{#
  Disclosure control of aggregate cells (docs/marts/disclosure-control.md).

  suppress_cells(source, n_column, partition_by, tiebreak, forced_column=none) returns
  a SELECT of every column of `source` (a CTE or relation) plus
    - is_suppressed      boolean
    - suppression_reason 'small_cell' | 'complementary' | NULL
  With k = var('min_cell_size'):
    1. primary: a cell whose n_column < k is suppressed ('small_cell'); so is a cell
       whose `forced_column` is 1 (a caller's own reason, e.g. a nested segment that
       differs from a larger published one by fewer than k respondents) ('complementary');
    2. complementary: within a partition of cells that add up to a published total
       (`partition_by`, e.g. the three respondent groups of one edition × theme), the
       suppressed cells must be at least two AND hold at least k respondents together,
       else their total could be recovered by difference (total − published cells).
       While that is not the case, the next smallest cell (smallest n, then `tiebreak`)
       is suppressed too ('complementary'). Computed in one pass with running sums over
       the cells ordered primary first, then by size: a cell is suppressed when the cells
       before it (all suppressed) are not yet a safe set.
  The caller nulls the values of suppressed cells with suppressed_value().
  Portable SQL: window functions with explicit ROWS frames only.
#}
{% macro suppress_cells(source, n_column, partition_by, tiebreak, forced_column=none) -%}
{%- set k = var('min_cell_size') -%}
{%- set partition = partition_by | join(', ') -%}
{%- set forced = ("coalesce(" ~ forced_column ~ ", 0)") if forced_column else "0" -%}
select
    _cells.*,
    case
        when _cells._is_seed = 1 then true
        when _cells._n_seeds_in_partition >= 1
            and (_cells._n_cells_before = 1 or _cells._n_respondents_before < {{ k }}) then true
        else false
    end as is_suppressed,
    case
        when _cells._is_small = 1 then 'small_cell'
        when _cells._is_seed = 1 then 'complementary'
        when _cells._n_seeds_in_partition >= 1
            and (_cells._n_cells_before = 1 or _cells._n_respondents_before < {{ k }}) then 'complementary'
    end as suppression_reason
from (
    select
        _seeded.*,
        sum(_seeded._is_seed) over (partition by {{ partition }}) as _n_seeds_in_partition,
        count(*) over (
            partition by {{ partition }}
            order by _seeded._is_seed desc, _seeded.{{ n_column }}, _seeded.{{ tiebreak }}
            rows between unbounded preceding and 1 preceding
        ) as _n_cells_before,
        coalesce(sum(_seeded.{{ n_column }}) over (
            partition by {{ partition }}
            order by _seeded._is_seed desc, _seeded.{{ n_column }}, _seeded.{{ tiebreak }}
            rows between unbounded preceding and 1 preceding
        ), 0) as _n_respondents_before
    from (
        select
            _source.*,
            case when _source.{{ n_column }} < {{ k }} then 1 else 0 end as _is_small,
            case
                when _source.{{ n_column }} < {{ k }} or {{ forced }} = 1 then 1
                else 0
            end as _is_seed
        from {{ source }} as _source
    ) as _seeded
) as _cells
{%- endmacro %}

{#
  The value of a cell as published: NULL when the cell is suppressed.
  Use after suppress_cells(); `flag` is the is_suppressed column.
#}
{% macro suppressed_value(expression, flag='is_suppressed') -%}
    case when {{ flag }} then null else {{ expression }} end
{%- endmacro %}
