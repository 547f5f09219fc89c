-- One row per transverse theme (analysis axes introduced in 2021), with the number of
-- questions tagged per edition available through bridge_question_transverse_themes.
select
    cast(transverse_code as {{ dbt.type_string() }})    as transverse_code,
    cast(label_fr as {{ dbt.type_string() }})           as label_fr,
    cast(description_fr as {{ dbt.type_string() }})     as description_fr,
    cast(first_edition_code as {{ dbt.type_string() }}) as first_edition_code
from {{ ref('transverse_themes') }}
