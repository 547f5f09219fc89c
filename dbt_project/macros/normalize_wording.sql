{#
  A question wording folded for comparison: typographic quotes and dashes straightened,
  ligatures spelt out, accents removed, runs of spaces folded, case ignored. The same
  folding as barometre.ingest.text.normalize_text (tests/test_seed_checks.py keeps the two
  in step); used by the seed-level check that crosswalked questions share their wording.
#}
{% macro normalize_wording(expression) -%}
    {{ return(adapter.dispatch('normalize_wording', 'barometre')(expression)) }}
{%- endmacro %}

{% macro default__normalize_wording(expression) -%}
    lower(trim({{ expression }}))
{%- endmacro %}

{% macro duckdb__normalize_wording(expression) -%}
    trim(lower(regexp_replace(strip_accents(
        replace(replace(replace(replace(replace(replace(
            translate({{ expression }}, '‘’‚′´`“”„«»–—‑', '''''''''''''"""""---'),
        'œ', 'oe'), 'Œ', 'oe'), 'æ', 'ae'), 'Æ', 'ae'), '…', '...'), chr(160), ' ')
    ), '\s+', ' ', 'g')))
{%- endmacro %}

{#
  PostgreSQL: the same folding without strip_accents (an extension there, unaccent):
  NFD decomposition, then the combining marks (U+0300–U+036F) removed. Needs a UTF8
  database (the default of initdb on a UTF-8 system).
#}
{% macro postgres__normalize_wording(expression) -%}
    trim(lower(regexp_replace(regexp_replace(normalize(
        replace(replace(replace(replace(replace(replace(
            translate({{ expression }}, '‘’‚′´`“”„«»–—‑', '''''''''''''"""""---'),
        'œ', 'oe'), 'Œ', 'oe'), 'æ', 'ae'), 'Æ', 'ae'), '…', '...'), chr(160), ' '),
        NFD), '[\u0300-\u036f]', '', 'g'), '\s+', ' ', 'g')))
{%- endmacro %}

{#
  Spark has no strip_accents: the accented Latin letters are translated to their base
  letter instead (French and the rest of Latin-1), after the same typography and
  ligature folding as DuckDB's.
#}
{% macro spark__normalize_wording(expression) -%}
    trim(lower(regexp_replace(translate(
        replace(replace(replace(replace(replace(replace(
            translate({{ expression }}, '‘’‚′´`“”„«»–—‑', '''''''''''''"""""---'),
        'œ', 'oe'), 'Œ', 'oe'), 'æ', 'ae'), 'Æ', 'ae'), '…', '...'), chr(160), ' '),
        'àáâãäåçèéêëìíîïñòóôõöùúûüýÿÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝŸ',
        'aaaaaaceeeeiiiinooooouuuuyyAAAAAACEEEEIIIINOOOOOUUUUYY'
    ), '\\s+', ' ')))
{%- endmacro %}
