-- In mart_theme_maturity and mart_transverse_maturity every published cell of n >= 2
-- respondents has a confidence interval around its mean: ci_low <= mean <= ci_high.
-- (Means and medians on the edition's scale and shares within 0-100 % are properties of
-- the published values: the great-expectations suites check them, docs/data-quality.md.)
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
where not cells.is_suppressed
    and cells.n_respondents >= 2
    and (
        cells.ci_low is null or cells.ci_low > cells.mean_maturity or cells.ci_high < cells.mean_maturity
    )
