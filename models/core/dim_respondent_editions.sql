-- One row per respondent × edition answered: the history of the collectivity as the
-- survey saw it. Name as written in that edition's export (name variants all resolve
-- to one SIREN), official type at that edition and its report group, population band.
-- A type or name change between editions is kept here (is_type_changed,
-- is_name_changed, previous_type_code); dim_respondents holds the current picture.
select
    edition_code,
    respondent_id,
    collectivity_name_exported,
    type_code,
    type_label_fr,
    report_group,
    report_group_label_fr,
    population,
    population_band_code,
    population_band_label_fr,
    previous_edition_code,
    previous_type_code,
    is_type_changed,
    is_name_changed
from {{ ref('int_respondent_editions') }}
