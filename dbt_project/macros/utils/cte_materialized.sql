{#- The keyword that makes a CTE read twice be computed once. -#}

{#- `name as {{ cte_materialized() }} (...)` for a CTE read twice: DuckDB otherwise inlines it
    into both readers and computes it twice (stg_image_tags would parse every JSON line twice).
    BigQuery has no such keyword (bigquery__cte_materialized below). -#}
{% macro cte_materialized() -%}
    {{ return(adapter.dispatch('cte_materialized', 'main_image')()) }}
{%- endmacro %}

{% macro default__cte_materialized() -%}
    materialized
{%- endmacro %}

{#- no keyword: BigQuery decides itself whether a CTE read twice is computed once -#}
{% macro bigquery__cte_materialized() -%}
{%- endmacro %}
