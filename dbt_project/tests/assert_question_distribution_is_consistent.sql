-- mart_question_distribution adds up: answered + not concerned + no answer = respondents;
-- published exact shares sum to 1; rounded percentages sum to 100 ± 3 (six levels each
-- off by at most half a point); the report-style stage percentage ≥ 4 is the sum of the
-- rounded levels 4-6 (and the levels present).
select
    edition_code,
    question_code,
    n_respondents,
    n_answering,
    n_not_concerned,
    n_no_answer,
    pct_sum
from {{ ref('mart_question_distribution') }}
where n_answering + n_not_concerned + n_no_answer <> n_respondents
    or (
        not is_suppressed
        and (
            abs(
                coalesce(share_level_1, 0) + coalesce(share_level_2, 0) + coalesce(share_level_3, 0)
                + coalesce(share_level_4, 0) + coalesce(share_level_5, 0) + coalesce(share_level_6, 0) - 1
            ) > 0.000001
            or pct_sum < 97
            or pct_sum > 103
            or pct_stage_ge_4 <> coalesce(pct_level_4, 0) + coalesce(pct_level_5, 0) + coalesce(pct_level_6, 0)
        )
    )
