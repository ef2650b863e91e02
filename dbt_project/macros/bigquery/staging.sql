{#- BigQuery versions of the staging helpers in macros/utils/staging.sql. -#}

{#- no keyword: BigQuery decides itself whether a CTE read twice is computed once -#}
{% macro bigquery__cte_materialized() -%}
{%- endmacro %}
