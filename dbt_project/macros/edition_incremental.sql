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

{# partition_by of an edition-incremental model: none where rows are deleted by key. #}
{% macro edition_partition_by() -%}
    {{ return(adapter.dispatch('edition_partition_by', 'barometre')()) }}
{%- endmacro %}

{% macro default__edition_partition_by() -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__edition_partition_by() -%}
    {{ return(['edition_code']) }}
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
    {%- set separated = [] -%}
    {%- for part in parts -%}
        {%- if not loop.first %}{% do separated.append("'|'") %}{% endif -%}
        {%- do separated.append(part) -%}
    {%- endfor -%}
    select
        loads.edition_code,
        {{ dbt.hash(dbt.concat(separated)) }} as edition_build_mark
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
