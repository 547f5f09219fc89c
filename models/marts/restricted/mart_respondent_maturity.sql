-- RESTRICTED (barometer team only): edition × respondent: general maturity, the inputs
-- of the maturity-group rule and the resulting group and peloton sub-group. Rule and
-- thresholds: docs/marts/mart_maturity_groups.md (dbt vars maturity_groups_*).
select
    edition_code,
    respondent_id,
    n_answered,
    general_maturity,
    general_maturity_harmonised,
    strategy_maturity_harmonised,
    n_themes_assessed,
    n_themes_implemented,
    share_themes_implemented,
    n_specialty_themes,
    maturity_group,
    maturity_subgroup
from {{ ref('int_respondent_maturity_groups') }}
