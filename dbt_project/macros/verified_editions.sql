{#
  Row-local tests of fct_answers on the editions not yet verified (docs/dbt.md, "Tests
  verified once per edition"; docs/performance.md, "Session 8: verified editions").

  fct_answers is incremental by edition: an edition's rows are replaced whole, each row
  carrying its edition's build mark (macros/edition_incremental.sql). A test whose verdict
  on a row depends on that row alone (not_null, accepted_values) or on the rows of its
  edition (a grain whose key holds edition_code) gives on an edition's rows the verdict it
  gave last time, as long as neither the rows (their mark) nor the test changed. Such tests
  opt in with `meta: {verified_by_edition: true}` (models/core/_core.yml); never a
  relationships test (its parent is rebuilt whole every build).

  Bookkeeping: table verified_editions.fct_answers_tests of (edition_code,
  edition_build_mark, tests_digest). verify_editions_on_run_end() (on-run-end hook)
  rewrites it from fct_answers' current marks, and only after an invocation in which every
  opted-in test ran and passed; a failure, warning, error, skip, a test not selected, or a
  killed run records nothing, so those editions are tested again next build. The tests
  digest (verified_tests_digest) covers every opted-in test's definition and the SQL of
  the macros it uses: a changed test makes every edition unverified. `--full-refresh`
  tests every row; a fresh warehouse has no bookkeeping, so every row is tested.

  DuckDB only (dbt's get_where_subquery, dispatched in namespace dbt, whose search order
  puts this project first: dbt_project.yml): other adapters keep dbt's own, which filters
  nothing.
#}

{% macro verified_editions_relation() -%}
    {{ return(api.Relation.create(
        database=target.database, schema='verified_editions', identifier='fct_answers_tests'
    )) }}
{%- endmacro %}


{# The opted-in test nodes of the graph, sorted by unique_id. #}
{% macro verified_test_nodes() -%}
    {%- set found = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
        {%- if node.resource_type == 'test'
              and ((node.config or {}).get('meta') or {}).get('verified_by_edition') -%}
            {%- do found.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}


{#
  md5 of what the opted-in tests check: each test's attached node, test_metadata (name,
  namespace, kwargs), config (severity, where, thresholds, …) and the SQL of every macro
  it depends on, plus this file's filter. Read from `graph` and the macro namespaces at
  execution time: no state outside the warehouse.
#}
{% macro verified_tests_digest() -%}
    {%- set parts = [] -%}
    {%- set macro_ids = ['macro.dbt.get_where_subquery', 'macro.dbt.default__get_where_subquery',
                         'macro.barometre.duckdb__get_where_subquery',
                         'macro.barometre.verified_editions_filter'] -%}
    {%- for node in verified_test_nodes() -%}
        {%- do parts.append(tojson({
            'unique_id': node.unique_id,
            'attached_node': node.attached_node,
            'test_metadata': node.test_metadata,
            'config': node.config,
            'macros': node.depends_on.macros | sort
        }, sort_keys=true)) -%}
        {%- for macro_id in node.depends_on.macros -%}
            {%- do macro_ids.append(macro_id) -%}
            {#- the adapter's implementation of a dispatched test (default__test_not_null) -#}
            {%- set package, name = macro_id.split('.')[1], macro_id.split('.')[2] -%}
            {%- do macro_ids.append('macro.' ~ package ~ '.default__' ~ name) -%}
            {%- do macro_ids.append('macro.' ~ package ~ '.' ~ adapter.type() ~ '__' ~ name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for macro_id in macro_ids | unique | sort -%}
        {%- do parts.append(macro_id ~ '=' ~ verified_macro_sql(macro_id)) -%}
    {%- endfor -%}
    {{ return(local_md5(parts | join('\n'))) }}
{%- endmacro %}


{# The SQL of macro `macro_id` (macro.<package>.<name>), '' when there is none. #}
{% macro verified_macro_sql(macro_id) -%}
    {%- set package, name = macro_id.split('.')[1], macro_id.split('.')[2] -%}
    {%- set namespace = context.get(package) if package != project_name else context -%}
    {%- set found = namespace.get(name) if namespace is mapping else none -%}
    {%- if found is not none and found.macro is defined -%}
        {{ return(found.macro.macro_sql) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}


{#
  dbt's get_where_subquery on DuckDB: for an opted-in test, the tested relation less the
  rows whose (edition_code, edition_build_mark) is verified under the current tests
  digest (dbt's own `where`, if any, still applies). Rendered when the test is compiled,
  i.e. at execution time; everything else gets dbt's default.
#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set meta = config.get('meta') or {} -%}
    {%- if execute and meta.get('verified_by_edition') and not flags.FULL_REFRESH -%}
        {%- set book = load_relation(verified_editions_relation()) -%}
        {%- if book is not none -%}
            {{ return(verified_editions_filter(relation, book, config.get('where', ''))) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(dbt.default__get_where_subquery(relation)) }}
{%- endmacro %}

{% macro verified_editions_filter(relation, book, where) -%}
    {%- set filtered -%}
    (select * from {{ relation }} as verified_scope
     where {% if where %}({{ where }}) and {% endif %}not exists (
        select 1 from {{ book }} as verified
        where verified.edition_code = verified_scope.edition_code
          and verified.edition_build_mark = verified_scope.edition_build_mark
          and verified.tests_digest = '{{ verified_tests_digest() }}'
     )) dbt_subquery
    {%- endset -%}
    {{ return(filtered) }}
{%- endmacro %}


{#
  on-run-end hook: after an invocation in which every opted-in test ran and passed, the
  editions of fct_answers are recorded verified with the marks their rows hold now (the
  table is replaced in one statement). Anything else records nothing. Not under --empty
  or --sample (the tests read no or some rows).
#}
{% macro verify_editions_on_run_end(results) -%}
    {{ return(adapter.dispatch('verify_editions_on_run_end', 'barometre')(results)) }}
{%- endmacro %}

{% macro default__verify_editions_on_run_end(results) -%}
{%- endmacro %}

{% macro duckdb__verify_editions_on_run_end(results) -%}
    {%- if execute and not invocation_args_dict.get('empty') and not invocation_args_dict.get('sample') -%}
        {%- set tests = verified_test_nodes() -%}
        {%- set passed = [] -%}
        {%- for result in results -%}
            {%- if result.node.resource_type == 'test' and result.status == 'pass' -%}
                {%- do passed.append(result.node.unique_id) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set tested = [] -%}
        {%- for node in tests -%}
            {%- if node.unique_id in passed -%}{%- do tested.append(node.attached_node) -%}{%- endif -%}
        {%- endfor -%}
        {%- if tests and tested | length == tests | length and tested | unique | list | length == 1 -%}
            {%- set book = verified_editions_relation() -%}
create schema if not exists {{ book.include(identifier=false) }};
create or replace table {{ book }} as
select distinct edition_code, edition_build_mark, '{{ verified_tests_digest() }}' as tests_digest
from {{ graph.nodes[tests[0].attached_node].relation_name }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
