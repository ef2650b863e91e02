{#- true when the whole of `expr` matches `pattern` (RE2-compatible, no quotes inside) -#}
{% macro regex_full_match(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_full_match', 'main_image')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_full_match(expr, pattern) -%}
    regexp_full_match({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{#- the first capture group of `pattern` in `expr`, null when it does not match -#}
{% macro regex_first_group(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_first_group', 'main_image')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_first_group(expr, pattern) -%}
    nullif(regexp_extract({{ expr }}, '{{ pattern }}', 1), '')
{%- endmacro %}
