-- sqlfluff:exclude_rules:LT01,ST06,RF03,RF04,ST02,RF02
-- Edition × maturity group: how many respondents of the edition fall in each of the
-- report's groups (leaders, peloton, retardataires) and in the two peloton sub-groups
-- (généralistes, spécialistes), by the documented rule of int_respondent_maturity_groups
-- (thresholds: dbt vars maturity_groups_*; docs/marts/mart_maturity_groups.md).
-- Disclosure: the group count is the published value, so a group of fewer than
-- var min_cell_size respondents has its count, share and means nulled; within a
-- partition (the three groups of an edition; the two sub-groups of the peloton) a
-- single suppressed cell drags the next smallest one with it (complementary), and the
-- sub-groups are suppressed whenever the peloton is.
{% set impl = var('maturity_groups_implemented_level') -%}
{%- set groups = [
    {'level': 'GROUP', 'code': 'LEADERS', 'label': 'Leaders', 'parent': 'ALL', 'order': 1,
     'rule': "Stratégie (thème " ~ var('maturity_groups_strategy_theme_code') ~ ") >= " ~ var('maturity_groups_leader_min_strategy')
             ~ " et part des thèmes mis en œuvre (maturité >= " ~ impl ~ ") >= " ~ var('maturity_groups_leader_min_implemented_share')
             ~ " (échelle harmonisée 1-5)"},
    {'level': 'GROUP', 'code': 'PELOTON', 'label': 'Peloton', 'parent': 'ALL', 'order': 2,
     'rule': "Ni leader ni retardataire"},
    {'level': 'GROUP', 'code': 'RETARDATAIRES', 'label': 'Retardataires', 'parent': 'ALL', 'order': 3,
     'rule': "Non leader et maturité générale < " ~ var('maturity_groups_laggard_max_general') ~ " (échelle harmonisée 1-5)"},
    {'level': 'SUBGROUP', 'code': 'PELOTON_GENERALISTES', 'label': 'Peloton : généralistes', 'parent': 'PELOTON', 'order': 4,
     'rule': "Peloton, moins de " ~ var('maturity_groups_specialist_min_themes') ~ " thème(s) de spécialité (maturité >= " ~ impl ~ " et >= maturité générale + " ~ var('maturity_groups_specialist_min_gap') ~ ")"},
    {'level': 'SUBGROUP', 'code': 'PELOTON_SPECIALISTES', 'label': 'Peloton : spécialistes', 'parent': 'PELOTON', 'order': 5,
     'rule': "Peloton, au moins " ~ var('maturity_groups_specialist_min_themes') ~ " thème(s) de spécialité (maturité >= " ~ impl ~ " et >= maturité générale + " ~ var('maturity_groups_specialist_min_gap') ~ ")"},
] -%}
with respondents as (

    select * from {{ ref('int_respondent_maturity_groups') }}
    where maturity_group is not null

),

categories as (

    {% for g in groups -%}
    select
        '{{ g.level }}' as group_level,
        '{{ g.code }}' as maturity_group_code,
        '{{ g.label }}' as maturity_group_label_fr,
        '{{ g.parent }}' as parent_group_code,
        {{ g.order }} as display_order,
        '{{ g.rule | replace("'", "''") }}' as rule_fr
    {% if not loop.last %}union all
    {% endif -%}
    {%- endfor %}

),

editions as (

    select
        edition_code,
        count(*) as n_classified_respondents
    from respondents
    group by edition_code

),

memberships as (

    select
        edition_code,
        maturity_group as maturity_group_code,
        general_maturity,
        general_maturity_harmonised
    from respondents

    union all

    select
        edition_code,
        maturity_subgroup as maturity_group_code,
        general_maturity,
        general_maturity_harmonised
    from respondents
    where maturity_subgroup is not null

),

counts as (

    select
        edition_code,
        maturity_group_code,
        count(*) as n_respondents,
        {{ stable_avg('general_maturity') }} as mean_general_maturity,
        {{ stable_avg('general_maturity_harmonised') }} as mean_general_maturity_harmonised
    from memberships
    group by edition_code, maturity_group_code

),

cells as (

    select
        editions.edition_code,
        categories.group_level,
        categories.maturity_group_code,
        categories.maturity_group_label_fr,
        categories.parent_group_code,
        categories.display_order,
        categories.rule_fr,
        editions.n_classified_respondents,
        coalesce(counts.n_respondents, 0) as n_respondents,
        counts.mean_general_maturity,
        counts.mean_general_maturity_harmonised
    from editions
    cross join categories
    left join counts
        on  editions.edition_code = counts.edition_code
        and categories.maturity_group_code = counts.maturity_group_code

),

flagged as (

    {{ suppress_cells(
        source='cells',
        n_column='n_respondents',
        partition_by=['edition_code', 'parent_group_code'],
        tiebreak='maturity_group_code'
    ) }}

),

with_parent as (

    -- a sub-group is suppressed whenever its parent group is (else the parent's count
    -- would be the sum of its published sub-groups)
    select
        flagged.*,
        case
            when flagged.is_suppressed then flagged.is_suppressed
            when parent.is_suppressed then true
            else false
        end as is_suppressed_final,
        case
            when flagged.is_suppressed then flagged.suppression_reason
            when parent.is_suppressed then 'complementary'
        end as suppression_reason_final,
        parent.n_respondents as n_parent_respondents
    from flagged
    left join flagged as parent
        on  flagged.edition_code = parent.edition_code
        and flagged.parent_group_code = parent.maturity_group_code

)

select
    cast(with_parent.edition_code as {{ dbt.type_string() }}) as edition_code,
    cast(group_level as {{ dbt.type_string() }})             as group_level,
    cast(maturity_group_code as {{ dbt.type_string() }})     as maturity_group_code,
    cast(maturity_group_label_fr as {{ dbt.type_string() }}) as maturity_group_label_fr,
    cast(parent_group_code as {{ dbt.type_string() }})       as parent_group_code,
    cast(display_order as {{ dbt.type_int() }})              as display_order,
    cast(rule_fr as {{ dbt.type_string() }})                 as rule_fr,
    cast(n_classified_respondents as {{ dbt.type_int() }})   as n_classified_respondents,
    cast({{ suppressed_value('n_respondents', 'is_suppressed_final') }} as {{ dbt.type_int() }}) as n_respondents,
    cast(
        {{ suppressed_value(safe_share('n_respondents', 'n_classified_respondents'), 'is_suppressed_final') }}
        as {{ type_double() }}
    ) as share_respondents,
    cast(
        {{ suppressed_value(round_half_up_pct('n_respondents', 'n_classified_respondents'), 'is_suppressed_final') }}
        as {{ dbt.type_int() }}
    ) as pct_respondents,
    cast(
        case
            when is_suppressed_final or group_level <> 'SUBGROUP' then null
            else {{ safe_share('n_respondents', 'n_parent_respondents') }}
        end
        as {{ type_double() }}
    ) as share_of_parent_group,
    cast({{ suppressed_value('mean_general_maturity', 'is_suppressed_final') }} as {{ type_double() }})
        as mean_general_maturity,
    cast({{ suppressed_value('mean_general_maturity_harmonised', 'is_suppressed_final') }} as {{ type_double() }})
        as mean_general_maturity_harmonised,
    is_suppressed_final as is_suppressed,
    cast(suppression_reason_final as {{ dbt.type_string() }}) as suppression_reason,
    -- labels for the BI tools (appended: the columns above keep their order and values)
    cast(editions.edition_year as {{ dbt.type_int() }}) as edition_year,
    cast({{ code_label('group_level', 'with_parent.group_level') }} as {{ dbt.type_string() }})
        as group_level_label_fr,
    cast({{ code_label('parent_group_code', 'with_parent.parent_group_code') }} as {{ dbt.type_string() }})
        as parent_group_label_fr,
    cast({{ code_label('suppression_reason', 'with_parent.suppression_reason_final') }} as {{ dbt.type_string() }})
        as suppression_reason_label_fr
from with_parent
left join {{ ref('dim_editions') }} as editions
    on with_parent.edition_code = editions.edition_code
