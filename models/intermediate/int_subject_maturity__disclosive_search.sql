-- The search for the disclosive combinations of the subject marts' cells (docs/marts/disclosure-control.md,
-- rule "Linked cells"): in each edition × subject, every combination of up to var
-- disclosure_max_linked_cells cells (int_subject_maturity__cells) with coefficients ±1
-- whose respondents with a non-zero net coefficient are between 1 and min_cell_size − 1,
-- one row per cell of each such combination (macros cell_atoms, linked_combinations).
-- Searched once over every cell, published or not: whether a combination discloses
-- depends on its cells and their respondents only, so the suppression passes
-- (int_subject_maturity__suppression_pass_*) only check which of these are still
-- wholly published. A table of its own, so that no pass plans the search again.
-- Incremental by edition (macros/edition_incremental.sql, edition_marks_from): the
-- search never crosses editions (its context is edition × subject), so an edition's
-- combinations are searched again only when its cells changed (or the vars it reads).
-- Every searched edition also has one marker row (combination_id NULL): an edition
-- without any disclosive combination would otherwise hold no row carrying its build
-- mark, and be searched again on every build. int_subject_maturity__disclosive is
-- this table without the markers.
{%- set marks_spec = {
    'upstream': 'int_subject_maturity__cells',
    'vars': ['min_cell_size', 'disclosure_max_linked_cells']
} %}
{{ edition_incremental_config(marks_spec) }}

with marks as (

    {{ edition_marks_from(marks_spec) }}

),

cells as (

    select
        edition_code,
        subject_type,
        subject_code,
        cell_id
    from {{ ref('int_subject_maturity__cells') }}
    {{ changed_editions_only('edition_code') }}

),

-- every cell as a set of respondents
memberships as (

    select
        edition_code,
        subject_type,
        subject_code,
        cell_id,
        respondent_id as member_id
    from {{ ref('int_subject_maturity__memberships') }}
    {{ changed_editions_only('edition_code') }}

),

atoms as (

    {{ cell_atoms('memberships', ['edition_code', 'subject_type', 'subject_code']) }}

),

{{ linked_combinations(
    prefix='linked',
    published='cells',
    atoms='atoms',
    context=['edition_code', 'subject_type', 'subject_code'],
    max_cells=var('disclosure_max_linked_cells')
) }}

terms as (

    select
        _terms.edition_code,
        _terms.subject_type,
        _terms.subject_code,
        _terms.combination_id,
        _terms.cell_id
    from linked_combination_cells as _terms
    inner join linked_disclosive as _found
        on  _terms.edition_code = _found.edition_code
        and _terms.subject_type = _found.subject_type
        and _terms.subject_code = _found.subject_code
        and _terms.combination_id = _found.combination_id

)

select
    cast(terms.edition_code as {{ dbt.type_string() }})   as edition_code,
    cast(terms.subject_type as {{ dbt.type_string() }})   as subject_type,
    cast(terms.subject_code as {{ dbt.type_string() }})   as subject_code,
    cast(terms.combination_id as {{ dbt.type_string() }}) as combination_id,
    cast(terms.cell_id as {{ dbt.type_string() }})        as cell_id,
    marks.edition_build_mark
from terms
inner join marks
    on terms.edition_code = marks.edition_code

union all

-- the markers: this edition was searched with this mark
select
    marks.edition_code,
    cast(null as {{ dbt.type_string() }}) as subject_type,
    cast(null as {{ dbt.type_string() }}) as subject_code,
    cast(null as {{ dbt.type_string() }}) as combination_id,
    cast(null as {{ dbt.type_string() }}) as cell_id,
    marks.edition_build_mark
from marks
where marks.edition_code in (select searched.edition_code from cells as searched)
