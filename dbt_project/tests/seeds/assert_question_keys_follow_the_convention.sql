-- question_key convention (docs/adding-an-edition.md, "Question keys"): a question
-- keeps the key of the identical question of an earlier edition; a question new in an
-- edition is keyed <edition_code>_<question_code> of that edition. Keys of the first
-- editions (2018, 2021) predate the prefix: they are the question_code of the question
-- in one of its editions, which the check also accepts. So the key of a question's
-- earliest row is either form; anything else (a typo, a free label) is refused.
{{ config(meta={
    'dagster': {'ref': {'name': 'question_crosswalk'}},
    'seed': 'question_crosswalk',
    'fix': "key a question new in this edition <edition_code>_<question_code> (e.g. "
           "2023_T11_Q01); a question identical to one of an earlier edition takes that "
           "question's key from seeds/question_crosswalk.csv",
}) }}
with crosswalk as (

    select crosswalk.*, editions.edition_year, editions.edition_number
    from {{ ref('question_crosswalk') }} as crosswalk
    inner join {{ ref('editions') }} as editions
        on crosswalk.edition_code = editions.edition_code

),

first_rows as (

    select *
    from (
        select
            crosswalk.*,
            row_number() over (
                partition by question_key order by edition_year, edition_number
            ) as rank_in_key
        from crosswalk
    ) as ranked
    where rank_in_key = 1

),

own_codes as (

    select distinct question_key
    from crosswalk
    where question_key = question_code

)

select
    first_rows.question_key,
    first_rows.edition_code,
    first_rows.question_code
from first_rows
left join own_codes
    on first_rows.question_key = own_codes.question_key
where own_codes.question_key is null
    and first_rows.question_key
        <> {{ dbt.concat(['first_rows.edition_code', "'_'", 'first_rows.question_code']) }}
