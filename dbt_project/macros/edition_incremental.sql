{#
  Incremental core models by edition (docs/performance.md, "Re-running after one changed
  edition"). A model built this way carries, on every row, the build mark of its edition
  (edition_build_mark): a digest of what the edition's rows are computed from, namely

    - the edition's load: max(loaded_at) of raw.load_log (each load of an edition
      replaces its raw rows and its load_log rows in one transaction, with a new time);
    - the model's own SQL (a change of the model rebuilds every edition);
    - optional per-edition digests of the small tables the model joins (questions, scale
      levels: a seed or var change that alters them rebuilds the editions it touches).

  An incremental build selects only the editions whose mark differs from the one stored
  in the table (or that are not in it yet), and replaces those editions' rows: strategy
  edition_incremental_strategy(), unique_key edition_code. Editions no longer in
  raw.load_log are deleted by the post-hook delete_unloaded_editions(). A first build, or
  `--full-refresh`, builds every edition.

  Engines choose how rows are replaced: var `edition_incremental_strategy` when set,
  otherwise the adapter's default below (delete+insert on DuckDB and PostgreSQL;
  an engine without it, e.g. Spark, dispatches its own: insert_overwrite on a table
  partitioned by edition_code).
#}

{% macro edition_incremental_strategy() -%}
    {%- set chosen = var('edition_incremental_strategy', none) -%}
    {%- if chosen -%}
        {{ return(chosen) }}
    {%- endif -%}
    {{ return(adapter.dispatch('edition_incremental_strategy', 'barometre')()) }}
{%- endmacro %}

{% macro default__edition_incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{# Spark has no delete+insert: partitions by edition overwritten (Parquet, dynamic mode). #}
{% macro spark__edition_incremental_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{#
  partition_by of a model incremental by edition (`columns`: ['edition_code']) or by pair
  of editions (['edition_code_from', 'edition_code_to']): none where rows are deleted by
  key; the key's columns where partitions are overwritten (Spark).
#}
{% macro edition_partition_by(columns=['edition_code']) -%}
    {{ return(adapter.dispatch('edition_partition_by', 'barometre')(columns)) }}
{%- endmacro %}

{% macro default__edition_partition_by(columns) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__edition_partition_by(columns) -%}
    {{ return(columns) }}
{%- endmacro %}


{# The hash of SQL expressions `parts` joined by '|': every build mark's digest. #}
{% macro joined_hash(parts) -%}
    {%- set separated = [] -%}
    {%- for part in parts -%}
        {%- if not loop.first %}{% do separated.append("'|'") %}{% endif -%}
        {%- do separated.append(part) -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(separated)) }}
{%- endmacro %}


{#
  CTE body: one row per loaded edition with its build mark. `digests` names CTEs with
  columns (edition_code, digest), one row per edition (edition_digest below).
#}
{% macro edition_build_marks(digests=[]) -%}
    {%- set parts = ["'" ~ local_md5(model.raw_code) ~ "'", "cast(loads.loaded_at as " ~ dbt.type_string() ~ ")"] -%}
    {%- for name in digests -%}
        {%- do parts.append("coalesce(" ~ name ~ ".digest, '')") -%}
    {%- endfor -%}
    select
        loads.edition_code,
        {{ joined_hash(parts) }} as edition_build_mark
    from (

        select
            cast(edition_code as {{ dbt.type_string() }}) as edition_code,
            max(loaded_at) as loaded_at
        from {{ source('raw', 'load_log') }}
        group by edition_code

    ) as loads
    {% for name in digests -%}
    left join {{ name }}
        on loads.edition_code = {{ name }}.edition_code
    {% endfor %}
{%- endmacro %}


{#
  CTE body: a per-edition digest of `columns` of `relation`, rows in the order of
  `order_by`, for edition_build_marks(). Values are cast to text; NULL is written '~'.
#}
{% macro edition_digest(relation, columns, order_by) -%}
    {%- set values = [] -%}
    {%- for column in columns -%}
        {%- if not loop.first %}{% do values.append("':'") %}{% endif -%}
        {%- do values.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '~')") -%}
    {%- endfor -%}
    select
        edition_code,
        {{ dbt.hash(dbt.listagg(
            measure=dbt.concat(values),
            delimiter_text="'|'",
            order_by_clause="order by " ~ order_by
        )) }} as digest
    from {{ relation }}
    group by edition_code
{%- endmacro %}


{#
  Post-hook of an edition-incremental model: rows of editions that raw.load_log no longer
  holds are deleted (delete+insert only replaces the editions it selects).
#}
{% macro delete_unloaded_editions() -%}
    {{ return(adapter.dispatch('delete_unloaded_editions', 'barometre')()) }}
{%- endmacro %}

{% macro default__delete_unloaded_editions() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where edition_code not in (
        select cast(edition_code as {{ dbt.type_string() }})
        from {{ source('raw', 'load_log') }}
    )
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}


{#
  Filter of an edition-incremental model: in an incremental build, only the editions
  whose build mark (CTE `marks`, from edition_build_marks) is not in the table yet.
  Outside incremental builds it renders nothing.
#}
{% macro changed_editions_only(edition_column, marks='marks') -%}
    {%- if is_incremental() -%}
    where {{ edition_column }} in (
        select {{ marks }}.edition_code
        from {{ marks }}
        where not exists (
            select 1
            from (select distinct edition_code, edition_build_mark from {{ this }}) as built
            where built.edition_code = {{ marks }}.edition_code
              and built.edition_build_mark = {{ marks }}.edition_build_mark
        )
    )
    {%- endif -%}
{%- endmacro %}


{#
  Spark: Parquet tables take no DELETE, but the model is partitioned by edition_code
  there (spark__edition_partition_by): the partitions of editions no longer in
  raw.load_log are dropped (their files go with them: the table is managed by the
  catalog that `barometre spark-build` keeps in its work folder). The editions are
  listed when the hook runs (run_query), one ALTER TABLE per stale edition.
#}
{% macro spark__delete_unloaded_editions() -%}
    {%- if execute and is_incremental() -%}
        {%- set stale = run_query(
            "select distinct edition_code from " ~ this ~ " where edition_code not in ("
            ~ "select cast(edition_code as " ~ dbt.type_string() ~ ") from "
            ~ source('raw', 'load_log') ~ ")"
        ) -%}
        {%- for row in stale.rows -%}
            {%- do run_query(
                "alter table " ~ this ~ " drop if exists partition (edition_code = '"
                ~ (row[0] | string | replace("\\", "\\\\") | replace("'", "\\'")) ~ "')"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}


{#
  Models downstream of an edition-incremental model (session 6: the respondent-level
  chain of the subject marts) are incremental by edition too, their build mark derived
  from their upstream's: a digest of

    - the upstream edition-incremental model's mark of the edition (`upstream`, a model
      name: whatever rebuilt the edition there, a load, a seed, a change of its SQL,
      rebuilds it here);
    - the model's own SQL and the values of the `vars` it reads (a var is a value, not
      text of the model: min_cell_size changed rebuilds every edition);
    - optional per-edition digests of small tables the model also joins (`digests`: a
      list of {relation: model name, columns: [...], order_by: '...'}, as
      edition_digest).

  `spec` is {upstream: ..., vars: [...], digests: [...]}, set once at the top of the
  model and handed both to this macro (a CTE, for changed_editions_only) and to the
  post-hook delete_stale_edition_rows (edition_incremental_config below), so the two
  always agree. A change of a macro the model calls is not seen: `--full-refresh` after
  editing one (docs/dbt.md).
#}
{% macro edition_marks_from(spec) -%}
    {%- set upstream = spec['upstream'] -%}
    {%- set vars = spec.get('vars', []) -%}
    {%- set digests = spec.get('digests', []) -%}
    {%- set salt = [model.raw_code] -%}
    {%- for name in vars -%}
        {%- do salt.append(name ~ '=' ~ var(name)) -%}
    {%- endfor -%}
    {%- set parts = ["'" ~ local_md5(salt | join('\n')) ~ "'", "upstream.digest"] -%}
    {%- for digest in digests -%}
        {%- do parts.append("coalesce(digest_" ~ loop.index ~ ".digest, '')") -%}
    {%- endfor -%}
    select
        upstream.edition_code,
        {{ joined_hash(parts) }} as edition_build_mark
    from (

        select
            edition_code,
            max(edition_build_mark) as digest
        from {{ ref(upstream) }}
        group by edition_code

    ) as upstream
    {% for digest in digests -%}
    left join (
        {{ edition_digest(ref(digest['relation']), digest['columns'], digest['order_by']) }}
    ) as digest_{{ loop.index }}
        on upstream.edition_code = digest_{{ loop.index }}.edition_code
    {% endfor %}
{%- endmacro %}


{#
  Post-hook of a model whose marks come from edition_marks_from (same arguments): rows
  whose mark is not their edition's current one are deleted. delete+insert replaces
  the editions the build selected that still have rows; this also removes an edition
  whose rows are now none (e.g. no disclosive combination left) and an edition no
  longer loaded (gone from the upstream).
#}
{% macro delete_stale_edition_rows(spec) -%}
    {{ return(adapter.dispatch('delete_stale_edition_rows', 'barometre')(spec)) }}
{%- endmacro %}

{#
  The stale (edition, mark) pairs are found among the table's distinct ones (a handful)
  and their editions deleted by code: every row of an edition carries the one mark it was
  built with (delete+insert replaces an edition whole), so this deletes exactly the rows
  whose mark is not current, without building a text key for every row of the table.
#}
{% macro default__delete_stale_edition_rows(spec) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where edition_code in (
        select built.edition_code
        from (select distinct edition_code, edition_build_mark from {{ this }}) as built
        where not exists (
            select 1
            from ({{ edition_marks_from(spec) }}) as current_marks
            where current_marks.edition_code = built.edition_code
              and current_marks.edition_build_mark = built.edition_build_mark
        )
    )
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{# Spark: the partitions (editions) holding a stale mark are dropped. #}
{% macro spark__delete_stale_edition_rows(spec) -%}
    {%- if execute and is_incremental() -%}
        {%- set stale = run_query(
            "select distinct built.edition_code from " ~ this ~ " as built where not exists ("
            ~ "select 1 from (" ~ edition_marks_from(spec) ~ ") as current_marks"
            ~ " where current_marks.edition_code = built.edition_code"
            ~ " and current_marks.edition_build_mark = built.edition_build_mark)"
        ) -%}
        {%- for row in stale.rows -%}
            {%- do run_query(
                "alter table " ~ this ~ " drop if exists partition (edition_code = '"
                ~ (row[0] | string | replace("\\", "\\\\") | replace("'", "\\'")) ~ "')"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}


{#
  The config of a model incremental by edition whose marks come from edition_marks_from
  (`spec`): called at the top of the model, `{{ edition_incremental_config(marks) }}`.
#}
{% macro edition_incremental_config(spec) -%}
{{ config(
    materialized='incremental',
    incremental_strategy=edition_incremental_strategy(),
    unique_key='edition_code',
    partition_by=edition_partition_by(),
    on_schema_change='sync_all_columns',
    post_hook=["{{ delete_stale_edition_rows(" ~ tojson(spec) ~ ") }}"]
) }}
{%- endmacro %}


{#
  Models by PAIR of editions (the edition comparison: int_edition_comparison__sides)
  are incremental by pair: a pair's rows are rebuilt when either edition's mark in
  `upstream` (an edition-incremental model) changed, or the pair's `digest` (a small
  table with edition_code_from, edition_code_to: {relation, columns, order_by}), or the
  model's SQL. With one edition changed out of n, n − 1 of the n(n − 1)/2 pairs are.
  `spec` is {pairs: model of (edition_code_from, edition_code_to), upstream: ...,
  digest: {...}}; unique key (edition_code_from, edition_code_to).
#}
{% macro edition_pair_marks_from(spec) -%}
    {%- set digest = spec['digest'] -%}
    {%- set parts = [
        "'" ~ local_md5(model.raw_code) ~ "'",
        "coalesce(marks_from.digest, '')",
        "coalesce(marks_to.digest, '')",
        "coalesce(pair_digest.digest, '')"
    ] -%}
    {%- set values = [] -%}
    {%- for column in digest['columns'] -%}
        {%- if not loop.first %}{% do values.append("':'") %}{% endif -%}
        {%- do values.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '~')") -%}
    {%- endfor -%}
    select
        pairs.edition_code_from,
        pairs.edition_code_to,
        {{ joined_hash(parts) }} as edition_build_mark
    from {{ ref(spec['pairs']) }} as pairs
    left join (
        select edition_code, max(edition_build_mark) as digest
        from {{ ref(spec['upstream']) }}
        group by edition_code
    ) as marks_from
        on pairs.edition_code_from = marks_from.edition_code
    left join (
        select edition_code, max(edition_build_mark) as digest
        from {{ ref(spec['upstream']) }}
        group by edition_code
    ) as marks_to
        on pairs.edition_code_to = marks_to.edition_code
    left join (
        select
            edition_code_from,
            edition_code_to,
            {{ dbt.hash(dbt.listagg(
                measure=dbt.concat(values),
                delimiter_text="'|'",
                order_by_clause="order by " ~ digest['order_by']
            )) }} as digest
        from {{ ref(digest['relation']) }}
        group by edition_code_from, edition_code_to
    ) as pair_digest
        on  pairs.edition_code_from = pair_digest.edition_code_from
        and pairs.edition_code_to = pair_digest.edition_code_to
{%- endmacro %}


{#
  Filter of a pair-incremental model: in an incremental build, only the pairs whose
  mark (CTE `marks`, from edition_pair_marks_from) is not in the table yet.
#}
{% macro changed_edition_pairs_only(from_column, to_column, marks='marks') -%}
    {%- if is_incremental() -%}
    where {{ dbt.concat([from_column, "'>'", to_column]) }} in (
        select {{ dbt.concat([marks ~ '.edition_code_from', "'>'", marks ~ '.edition_code_to']) }}
        from {{ marks }}
        where not exists (
            select 1
            from (select distinct edition_code_from, edition_code_to, edition_build_mark from {{ this }}) as built
            where built.edition_code_from = {{ marks }}.edition_code_from
              and built.edition_code_to = {{ marks }}.edition_code_to
              and built.edition_build_mark = {{ marks }}.edition_build_mark
        )
    )
    {%- endif -%}
{%- endmacro %}


{#
  Post-hook: rows of pairs whose mark is not the current one (or gone) are deleted, by
  pair (each pair's rows carry one mark, as default__delete_stale_edition_rows).
#}
{% macro delete_stale_edition_pair_rows(spec) -%}
    {{ return(adapter.dispatch('delete_stale_edition_pair_rows', 'barometre')(spec)) }}
{%- endmacro %}

{% macro default__delete_stale_edition_pair_rows(spec) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where {{ dbt.concat(['edition_code_from', "'>'", 'edition_code_to']) }} in (
        select {{ dbt.concat(['built.edition_code_from', "'>'", 'built.edition_code_to']) }}
        from (
            select distinct edition_code_from, edition_code_to, edition_build_mark
            from {{ this }}
        ) as built
        where not exists (
            select 1
            from ({{ edition_pair_marks_from(spec) }}) as current_marks
            where current_marks.edition_code_from = built.edition_code_from
              and current_marks.edition_code_to = built.edition_code_to
              and current_marks.edition_build_mark = built.edition_build_mark
        )
    )
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{% macro spark__delete_stale_edition_pair_rows(spec) -%}
    {%- if execute and is_incremental() -%}
        {%- set stale = run_query(
            "select distinct built.edition_code_from, built.edition_code_to from " ~ this
            ~ " as built where not exists (select 1 from (" ~ edition_pair_marks_from(spec)
            ~ ") as current_marks where current_marks.edition_code_from = built.edition_code_from"
            ~ " and current_marks.edition_code_to = built.edition_code_to"
            ~ " and current_marks.edition_build_mark = built.edition_build_mark)"
        ) -%}
        {%- for row in stale.rows -%}
            {%- do run_query(
                "alter table " ~ this ~ " drop if exists partition (edition_code_from = '"
                ~ (row[0] | string | replace("\\", "\\\\") | replace("'", "\\'"))
                ~ "', edition_code_to = '"
                ~ (row[1] | string | replace("\\", "\\\\") | replace("'", "\\'")) ~ "')"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}


{# The config of a pair-incremental model (`spec` as edition_pair_marks_from's). #}
{% macro edition_pair_incremental_config(spec) -%}
{{ config(
    materialized='incremental',
    incremental_strategy=edition_incremental_strategy(),
    unique_key=['edition_code_from', 'edition_code_to'],
    partition_by=edition_partition_by(['edition_code_from', 'edition_code_to']),
    on_schema_change='sync_all_columns',
    post_hook=["{{ delete_stale_edition_pair_rows(" ~ tojson(spec) ~ ") }}"]
) }}
{%- endmacro %}
