-- Every ordered pair of editions, earlier → later (by edition_year then edition_number
-- of the seed, never by comparing codes). Feeds the edition comparison: each pair is
-- compared on its own perimeter of identical questions and its own matched panel.
with editions as (

    select * from {{ ref('dim_editions') }}

)

select
    earlier.edition_code as edition_code_from,
    later.edition_code   as edition_code_to
from editions as earlier
inner join editions as later
    on earlier.edition_year < later.edition_year
    or (earlier.edition_year = later.edition_year and earlier.edition_number < later.edition_number)
