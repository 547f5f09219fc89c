-- The disclosive combinations of the subject marts' cells (docs/marts/disclosure-control.md,
-- rule "Linked cells"), one row per cell of each: the search
-- (int_subject_maturity__disclosive_search, incremental by edition) without its
-- per-edition marker rows. Read by every suppression pass.
{{ config(materialized='view') }}

select
    edition_code,
    subject_type,
    subject_code,
    combination_id,
    cell_id
from {{ ref('int_subject_maturity__disclosive_search') }}
where combination_id is not null
