-- Disclosure control of the subject marts: the state after the last pass
-- (int_subject_maturity__suppression_pass_<disclosure_linked_passes>), under a name that
-- does not move with the var, for int_subject_maturity__segmented and its unit tests.
{{ config(materialized='view') }}

select
    edition_code,
    subject_type,
    subject_code,
    cell_id,
    segment_type,
    n_respondents,
    is_protected,
    is_suppressed,
    suppression_reason
from {{ ref('int_subject_maturity__suppression_pass_' ~ var('disclosure_linked_passes')) }}
