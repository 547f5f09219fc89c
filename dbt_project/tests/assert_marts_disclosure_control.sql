-- Disclosure control of the wide-audience marts (docs/marts/disclosure-control.md),
-- with k = var('min_cell_size'). Returns one row per violation:
--   1. a published (unsuppressed) cell built from fewer than k respondents;
--   2. a suppressed cell that still shows a value;
--   3. a partition of cells that add up to a published total (the segments of one
--      segment type, the three groups, the two peloton sub-groups) whose suppressed
--      cells are a single cell or hold fewer than k respondents together: their total
--      could be recovered by difference;
--   4. a peloton sub-group published while the peloton is suppressed;
--   5. a MATCHED comparison row published while the respondents of ALL outside the
--      matched panel are between 1 and k − 1 on either side;
--   6. linked cells: in the subject marts, a combination of up to
--      var disclosure_max_linked_cells published cells of one mart, edition and subject
--      (coefficients ±1) whose respondents with a non-zero net coefficient are between
--      1 and k − 1 (searched by macro linked_combinations over the atoms of the
--      respondents' memberships; a failure here means the secondary suppression stopped
--      before its fixed point: raise var disclosure_linked_passes).
-- Shown in Dagster as an asset check of mart_theme_maturity (it reads several models).
{{ config(meta={'dagster': {'ref': {'name': 'mart_theme_maturity'}}}) }}
{% set k = var('min_cell_size') %}
with subject_cells as (

    select
        'mart_theme_maturity' as mart,
        edition_code,
        theme_code as subject_code,
        segment_type,
        segment_code,
        n_respondents,
        mean_maturity,
        median_maturity,
        ci_low,
        share_stage_ge_4,
        rank_in_edition,
        is_suppressed
    from {{ ref('mart_theme_maturity') }}

    union all

    select
        'mart_transverse_maturity' as mart,
        edition_code,
        transverse_code as subject_code,
        segment_type,
        segment_code,
        n_respondents,
        mean_maturity,
        median_maturity,
        ci_low,
        share_stage_ge_4,
        rank_in_edition,
        is_suppressed
    from {{ ref('mart_transverse_maturity') }}

),

groups as (

    select * from {{ ref('mart_maturity_groups') }}

),

-- 6: the published cells of the subject marts and the respondents behind every cell
published_cells as (

    select
        mart,
        edition_code,
        subject_code,
        {{ dbt.concat(['segment_type', "':'", 'segment_code']) }} as cell_id
    from subject_cells
    where not is_suppressed

),

-- the atoms of every context (macro cell_atoms' output: <context>, cell_id, atom_id,
-- atom_size), computed here from the respondents' segments: in a context (mart, edition,
-- subject) a respondent answering the subject belongs to the cells of its segments in
-- the edition, the same whatever the subject. So a respondent's atom (the set of its
-- cells) is computed once per edition (signatures), then counted per subject: the same
-- atoms as cell_atoms over the context × respondent memberships, without ordering and
-- joining the cells of every subject of every respondent (~5 s at 10 M answers).
segment_cells as (

    select
        edition_code,
        respondent_id,
        {{ dbt.concat(['segment_type', "':'", 'segment_code']) }} as cell_id
    from {{ ref('int_respondent_segments') }}

),

signatures as (

    select
        edition_code,
        respondent_id,
        {{ dbt.listagg('cell_id', "'|'", 'order by cell_id') }} as atom_id
    from segment_cells
    group by edition_code, respondent_id

),

atom_sizes as (

    select
        case when respondent_subjects.subject_type = 'THEME' then 'mart_theme_maturity'
            else 'mart_transverse_maturity' end as mart,
        respondent_subjects.edition_code,
        respondent_subjects.subject_code,
        signatures.atom_id,
        count(*) as atom_size
    from {{ ref('int_respondent_subject_maturity') }} as respondent_subjects
    inner join signatures
        on  respondent_subjects.edition_code = signatures.edition_code
        and respondent_subjects.respondent_id = signatures.respondent_id
    where respondent_subjects.n_answered > 0
    group by
        case when respondent_subjects.subject_type = 'THEME' then 'mart_theme_maturity'
            else 'mart_transverse_maturity' end,
        respondent_subjects.edition_code,
        respondent_subjects.subject_code,
        signatures.atom_id

),

atom_cells as (

    select distinct
        signatures.edition_code,
        signatures.atom_id,
        segment_cells.cell_id
    from signatures
    inner join segment_cells
        on  signatures.edition_code = segment_cells.edition_code
        and signatures.respondent_id = segment_cells.respondent_id

),

atoms as (

    select
        atom_sizes.mart,
        atom_sizes.edition_code,
        atom_sizes.subject_code,
        atom_cells.cell_id,
        atom_sizes.atom_id,
        atom_sizes.atom_size
    from atom_sizes
    inner join atom_cells
        on  atom_sizes.edition_code = atom_cells.edition_code
        and atom_sizes.atom_id = atom_cells.atom_id

),

{{ linked_combinations(
    'published',
    'published_cells',
    'atoms',
    ['mart', 'edition_code', 'subject_code'],
    var('disclosure_max_linked_cells')
) }}

comparison as (

    select * from {{ ref('mart_edition_comparison') }}

),

violations as (

    -- 1 and 2: subject marts
    select
        mart,
        edition_code,
        subject_code || ' / ' || segment_type || ' / ' || segment_code as cell,
        case
            when not is_suppressed then 'published cell with n < {{ k }}'
            else 'suppressed cell shows a value'
        end as problem
    from subject_cells
    where (not is_suppressed and n_respondents < {{ k }})
        or (is_suppressed and (
            mean_maturity is not null or median_maturity is not null or ci_low is not null
            or share_stage_ge_4 is not null or rank_in_edition is not null
        ))

    union all

    -- 3: subject marts, segment partitions
    -- (only under a published total: if the ALL cell is suppressed there is no total)
    select
        parts.mart,
        parts.edition_code,
        parts.subject_code || ' / ' || parts.segment_type as cell,
        'suppressed cells of the partition recoverable by difference' as problem
    from subject_cells as parts
    inner join subject_cells as total
        on  parts.mart = total.mart
        and parts.edition_code = total.edition_code
        and parts.subject_code = total.subject_code
        and total.segment_type = 'ALL'
        and not total.is_suppressed
    where parts.segment_type <> 'ALL'
    group by parts.mart, parts.edition_code, parts.subject_code, parts.segment_type
    having sum(case when parts.is_suppressed then 1 else 0 end) = 1
        or sum(case when parts.is_suppressed then parts.n_respondents else 0 end) between 1 and {{ k - 1 }}

    union all

    -- 1 and 2: question distribution
    select
        'mart_question_distribution' as mart,
        edition_code,
        question_code as cell,
        case
            when not is_suppressed then 'published cell with n < {{ k }}'
            else 'suppressed cell shows a value'
        end as problem
    from {{ ref('mart_question_distribution') }}
    where (not is_suppressed and n_answering < {{ k }})
        or (is_suppressed and (
            share_level_1 is not null or pct_level_1 is not null or pct_sum is not null
            or share_stage_ge_4 is not null or pct_stage_ge_4 is not null or mean_level is not null
        ))

    union all

    -- 1 and 2: maturity groups (the count is the published value)
    select
        'mart_maturity_groups' as mart,
        edition_code,
        maturity_group_code as cell,
        case
            when not is_suppressed then 'published cell with n < {{ k }}'
            else 'suppressed cell shows a value'
        end as problem
    from groups
    where (not is_suppressed and n_respondents < {{ k }})
        or (is_suppressed and (
            n_respondents is not null or share_respondents is not null or pct_respondents is not null
            or mean_general_maturity is not null
        ))

    union all

    -- 3: maturity groups partitions (a suppressed count is NULL: the suppressed total is
    -- the parent's count minus the published children)
    select
        'mart_maturity_groups' as mart,
        children.edition_code,
        'children of ' || children.parent_group_code as cell,
        'suppressed cells of the partition recoverable by difference' as problem
    from groups as children
    left join groups as parent
        on  children.edition_code = parent.edition_code
        and children.parent_group_code = parent.maturity_group_code
    where parent.is_suppressed is null or not parent.is_suppressed
    group by children.edition_code, children.parent_group_code
    having sum(case when children.is_suppressed then 1 else 0 end) = 1
        or (
            max(coalesce(parent.n_respondents, children.n_classified_respondents))
            - sum(case when children.is_suppressed then 0 else children.n_respondents end)
        ) between 1 and {{ k - 1 }}

    union all

    -- 4: sub-group published under a suppressed parent
    select
        'mart_maturity_groups' as mart,
        child.edition_code,
        child.maturity_group_code as cell,
        'sub-group published while its parent is suppressed' as problem
    from groups as child
    inner join groups as parent
        on  child.edition_code = parent.edition_code
        and child.parent_group_code = parent.maturity_group_code
    where parent.is_suppressed and not child.is_suppressed

    union all

    -- 1 and 2: edition comparison
    select
        'mart_edition_comparison' as mart,
        edition_code_to as edition_code,
        edition_code_from || ' / ' || comparison_level || ' / ' || subject_code || ' / ' || panel_code as cell,
        case
            when not is_suppressed then 'published cell with n < {{ k }}'
            else 'suppressed cell shows a value'
        end as problem
    from comparison
    where (not is_suppressed and (n_respondents_from < {{ k }} or n_respondents_to < {{ k }}))
        or (is_suppressed and (
            share_ge_4_from is not null or share_ge_4_to is not null
            or mean_harmonised_from is not null or mean_harmonised_to is not null
            or diff_share_ge_4 is not null
        ))

    union all

    -- 5: matched panel recoverable from ALL by difference
    select
        'mart_edition_comparison' as mart,
        matched.edition_code_to as edition_code,
        matched.edition_code_from || ' / ' || matched.comparison_level || ' / ' || matched.subject_code as cell,
        'MATCHED published while ALL minus MATCHED is below {{ k }}' as problem
    from comparison as matched
    inner join comparison as all_panel
        on  matched.edition_code_from = all_panel.edition_code_from
        and matched.edition_code_to = all_panel.edition_code_to
        and matched.comparison_level = all_panel.comparison_level
        and matched.subject_code = all_panel.subject_code
        and all_panel.panel_code = 'ALL'
    where matched.panel_code = 'MATCHED'
        and not matched.is_suppressed
        and (
            (all_panel.n_respondents_from - matched.n_respondents_from between 1 and {{ k - 1 }})
            or (all_panel.n_respondents_to - matched.n_respondents_to between 1 and {{ k - 1 }})
        )

    union all

    -- 6: linked cells of the subject marts
    select
        mart,
        edition_code,
        subject_code || ' / ' || combination_id as cell,
        'published cells combine to isolate ' || cast(n_isolated as {{ dbt.type_string() }})
            || ' respondent(s)' as problem
    from published_disclosive

)

select * from violations
