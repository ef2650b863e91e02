{#- A 64-bit float on every engine. (dbt's "float" is a 32-bit REAL on DuckDB.) -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'main_image')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{% macro bigquery__type_double() -%}
    float64
{%- endmacro %}
