{#- Both engines use RE2. Patterns are written without quotes or backslashes and are passed
    as raw string literals on BigQuery. -#}

{#- true when the whole of `expr` matches `pattern` (RE2-compatible, no quotes inside) -#}
{% macro regex_full_match(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_full_match', 'main_image')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_full_match(expr, pattern) -%}
    regexp_full_match({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{#- DuckDB's regexp_full_match: the whole string must match -#}
{% macro bigquery__regex_full_match(expr, pattern) -%}
    regexp_contains({{ expr }}, r'^(?:{{ pattern }})$')
{%- endmacro %}
