{#
  The dbt source `raw` on Spark: the raw tables that the ingestion exported as Parquet
  (orchestration/barometre/engines/spark/raw_parquet.py, one folder per table under
  BAROMETRE_SPARK_RAW_DIR) registered in the session's catalog when dbt starts
  (on-run-start, dbt_project.yml), in the process that runs dbt: the Dagster dbt step
  runs dbt as a child process, and the catalog (embedded Derby) admits one process at a
  time. Each table is dropped and created again over its folder (metadata only: the
  files stay where the export wrote them), so a column the export gained is seen.
  Nothing on the other engines, whose raw schema is a real one.
#}
{% macro register_raw_source() -%}
  {{ return(adapter.dispatch('register_raw_source', 'barometre')()) }}
{%- endmacro %}

{% macro default__register_raw_source() -%}
{%- endmacro %}

{% macro spark__register_raw_source() -%}
  {%- set raw_dir = env_var('BAROMETRE_SPARK_RAW_DIR', '') -%}
  {%- if execute and raw_dir -%}
    {%- set sources = graph.sources.values() | selectattr('source_name', 'equalto', 'raw') | list -%}
    {%- do run_query('create database if not exists ' ~ sources[0].schema) -%}
    {%- for source in sources -%}
      {%- set table = sources[0].schema ~ '.`' ~ source.identifier ~ '`' -%}
      {%- set location = (raw_dir ~ '/' ~ source.identifier) | replace("\\", "\\\\") | replace("'", "\\'") -%}
      {%- do run_query('drop table if exists ' ~ table) -%}
      {%- do run_query('create table ' ~ table ~ " using parquet location '" ~ location ~ "'") -%}
    {%- endfor -%}
  {%- endif -%}
{%- endmacro %}
