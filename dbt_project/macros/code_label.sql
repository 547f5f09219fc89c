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


{#
  The label columns appended to the segmented marts (theme and transverse maturity):
  edition year, segment type label and order, segment order (report groups in the
  report's order from code_labels; population bands by segment_order; ALL first) and
  the suppression reason's label. One home for both marts' identical columns.
#}
{% macro segment_label_columns(cells, editions) -%}
    cast({{ editions }}.edition_year as {{ dbt.type_int() }}) as edition_year,
    cast({{ code_label('segment_type', cells ~ '.segment_type') }} as {{ dbt.type_string() }})
        as segment_type_label_fr,
    cast({{ code_label('segment_type', cells ~ '.segment_type', 'display_order') }} as {{ dbt.type_int() }})
        as segment_type_display_order,
    cast(
        case
            when {{ cells }}.segment_type = 'REPORT_GROUP'
                then {{ code_label('report_group', cells ~ '.segment_code', 'display_order') }}
            else {{ cells }}.segment_order
        end
        as {{ dbt.type_int() }}
    ) as segment_display_order,
    cast({{ code_label('suppression_reason', cells ~ '.suppression_reason') }} as {{ dbt.type_string() }})
        as suppression_reason_label_fr
{%- endmacro %}
