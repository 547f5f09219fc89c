{#
  The French label (or display order) of a code a BI user sees, from the seed
  code_labels (domain, code, label_fr, display_order): one home for every label of the
  marts' codes, read by this one macro rather than a join copied into every mart.
  A scalar subquery: (domain, code) is unique (seed data test), so it returns one value,
  or NULL when the code is NULL. A non-NULL code without a label is caught by
  assert_marts_codes_are_labelled.
    code_label('panel_code', 'published.panel_code')
    code_label('report_group', 'cells.segment_code', 'display_order')
#}
{% macro code_label(domain, code, column='label_fr') -%}
    (
        select code_labels.{{ column }}
        from {{ ref('code_labels') }} as code_labels
        where code_labels.domain = '{{ domain }}'
          and code_labels.code = {{ code }}
    )
{%- endmacro %}
