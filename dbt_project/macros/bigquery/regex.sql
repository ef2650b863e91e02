{#- BigQuery versions of macros/utils/regex.sql. Both engines use RE2. Patterns are written
    without quotes or backslashes (see regex.sql) and are passed as raw string literals. -#}

{#- DuckDB's regexp_full_match: the whole string must match -#}
{% macro bigquery__regex_full_match(expr, pattern) -%}
    regexp_contains({{ expr }}, r'^(?:{{ pattern }})$')
{%- endmacro %}

{#- REGEXP_EXTRACT returns the (only) capture group, NULL when there is no match; DuckDB returns
    '' on no match, so both map '' to NULL. BigQuery rejects patterns with more than one
    capture group: write the others as (?:...). -#}
{% macro bigquery__regex_first_group(expr, pattern) -%}
    nullif(regexp_extract({{ expr }}, r'{{ pattern }}'), '')
{%- endmacro %}
