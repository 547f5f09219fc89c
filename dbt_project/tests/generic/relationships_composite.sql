{#
  Composite foreign key: every row of the tested model whose `columns` are all non-null
  has a row in `to` with the same values in `to_columns` (same order).
  Usage:
    data_tests:
      - relationships_composite:
          arguments:
            columns: ["edition_code", "question_code"]
            to: ref('dim_questions')
            to_columns: ["edition_code", "question_code"]
#}
{% test relationships_composite(model, columns, to, to_columns) %}

select
    {% for c in columns %}child.{{ c }}{{ ", " if not loop.last }}{% endfor %}
from {{ model }} as child
left join {{ to }} as parent
    on {% for c in columns %}child.{{ c }} = parent.{{ to_columns[loop.index0] }}{{ " and " if not loop.last }}{% endfor %}
where
    {% for c in columns %}child.{{ c }} is not null and {% endfor %}
    parent.{{ to_columns[0] }} is null

{% endtest %}
