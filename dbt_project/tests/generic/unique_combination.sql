{#
  Grain test: no two rows share the same values of `columns` (a list of column names).
  Replaces dbt_utils.unique_combination_of_columns (no dbt packages in this project).
  Usage:
    data_tests:
      - unique_combination:
          arguments:
            columns: ["edition_code", "question_code"]
#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
