-- The disclosive combinations of the subject marts' cells (docs/marts/disclosure-control.md,
-- rule "Linked cells"): in each edition × subject, every combination of up to var
-- disclosure_max_linked_cells cells (int_subject_maturity__cells) with coefficients ±1
-- whose respondents with a non-zero net coefficient are between 1 and min_cell_size − 1,
-- one row per cell of each such combination (macros cell_atoms, linked_combinations).
-- Searched once over every cell, published or not: whether a combination discloses
-- depends on its cells and their respondents only, so the suppression passes
-- (int_subject_maturity__suppression_pass_*) only check which of these are still
-- wholly published. A table of its own, so that no pass plans the search again.
{{ config(materialized='table') }}

with respondent_subjects as (

    select * from {{ ref('int_respondent_subject_maturity') }}
    where n_answered > 0

),

segments as (

    select * from {{ ref('int_respondent_segments') }}

),

cells as (

    select
        edition_code,
        subject_type,
        subject_code,
        cell_id
    from {{ ref('int_subject_maturity__cells') }}

),

-- every cell as a set of respondents
memberships as (

    select
        respondent_subjects.edition_code,
        respondent_subjects.subject_type,
        respondent_subjects.subject_code,
        {{ dbt.concat(['segments.segment_type', "':'", 'segments.segment_code']) }} as cell_id,
        respondent_subjects.respondent_id as member_id
    from respondent_subjects
    inner join segments
        on  respondent_subjects.edition_code = segments.edition_code
        and respondent_subjects.respondent_id = segments.respondent_id

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
    cast(edition_code as {{ dbt.type_string() }})   as edition_code,
    cast(subject_type as {{ dbt.type_string() }})   as subject_type,
    cast(subject_code as {{ dbt.type_string() }})   as subject_code,
    cast(combination_id as {{ dbt.type_string() }}) as combination_id,
    cast(cell_id as {{ dbt.type_string() }})        as cell_id
from terms
