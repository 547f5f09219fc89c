-- In mart_theme_maturity and mart_transverse_maturity every published cell has
-- ci_low <= mean <= ci_high (when n >= 2), a mean and a median within the edition's
-- scale (1 … scale_size), and shares within [0, 1].
-- Shown in Dagster as an asset check of mart_theme_maturity (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'mart_theme_maturity'}}}) }}
with cells as (

    select edition_code, theme_code as subject_code, segment_code, n_respondents,
           mean_maturity, median_maturity, ci_low, ci_high, share_stage_ge_4, is_suppressed
    from {{ ref('mart_theme_maturity') }}

    union all

    select edition_code, transverse_code as subject_code, segment_code, n_respondents,
           mean_maturity, median_maturity, ci_low, ci_high, share_stage_ge_4, is_suppressed
    from {{ ref('mart_transverse_maturity') }}

)

select cells.*
from cells
inner join {{ ref('dim_editions') }} as editions
    on cells.edition_code = editions.edition_code
where not cells.is_suppressed
    and (
        cells.mean_maturity < 1 or cells.mean_maturity > editions.scale_size
        or cells.median_maturity < 1 or cells.median_maturity > editions.scale_size
        or cells.share_stage_ge_4 < 0 or cells.share_stage_ge_4 > 1
        or (cells.n_respondents >= 2 and (
            cells.ci_low is null or cells.ci_low > cells.mean_maturity or cells.ci_high < cells.mean_maturity
        ))
    )
