{#- Both engines use RE2. Patterns are written without quotes or backslashes and are passed
    as raw string literals on BigQuery. -#}

{#- the first capture group of `pattern` in `expr`, null when it does not match -#}
{% macro regex_first_group(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_first_group', 'main_image')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_first_group(expr, pattern) -%}
    nullif(regexp_extract({{ expr }}, '{{ pattern }}', 1), '')
{%- endmacro %}

{#- REGEXP_EXTRACT returns the (only) capture group, NULL when there is no match; DuckDB returns
    '' on no match, so both map '' to NULL. BigQuery rejects patterns with more than one
    capture group: write the others as (?:...). -#}
{% macro bigquery__regex_first_group(expr, pattern) -%}
    nullif(regexp_extract({{ expr }}, r'{{ pattern }}'), '')
{%- endmacro %}
