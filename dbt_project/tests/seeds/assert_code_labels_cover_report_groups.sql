-- The report groups of seed code_labels (domain report_group, which gives their display
-- order) are exactly those of collectivity_types, with the same French label: one row
-- per report group missing on either side or labelled differently.
{{ config(meta={
    'seed': 'code_labels',
    'fix': "give every report_group of seeds/collectivity_types.csv a row of domain "
           "report_group in seeds/code_labels.csv, with the same report_group_label_fr",
}) }}
with types as (

    select distinct report_group, report_group_label_fr
    from {{ ref('collectivity_types') }}

),

labels as (

    select code, label_fr
    from {{ ref('code_labels') }}
    where domain = 'report_group'

)

select
    coalesce(types.report_group, labels.code) as report_group,
    types.report_group_label_fr,
    labels.label_fr as code_labels_label_fr
from types
full outer join labels
    on types.report_group = labels.code
where types.report_group is null
    or labels.code is null
    or types.report_group_label_fr <> labels.label_fr
