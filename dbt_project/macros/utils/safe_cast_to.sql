{#- A cast that yields null instead of failing. dbt-duckdb's dbt.safe_cast is a plain cast, so
    DuckDB gets try_cast; other engines use dbt's (SAFE_CAST on BigQuery). -#}
{% macro safe_cast_to(expression, data_type) -%}
    {{ return(adapter.dispatch('safe_cast_to', 'main_image')(expression, data_type)) }}
{%- endmacro %}

{% macro default__safe_cast_to(expression, data_type) -%}
    {{ dbt.safe_cast(expression, data_type) }}
{%- endmacro %}

{% macro duckdb__safe_cast_to(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}
