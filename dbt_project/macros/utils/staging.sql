{#- The raw lines a staging model has not seen yet (all of them on a full build). -#}
{% macro new_raw_lines(relation) -%}
    {{ return(adapter.dispatch('new_raw_lines', 'main_image')(relation)) }}
{%- endmacro %}

{% macro default__new_raw_lines(relation) -%}
    select * from {{ relation }}
    {%- if is_incremental() %}
    where file_seq > (select coalesce(max(file_seq), 0) from {{ this }})
    {%- endif %}
{%- endmacro %}

{#- Where a staged line came from: kept on every staged and rejected record. -#}
{% macro provenance_columns() -%}
    file_seq,
    line_number,
    file_name,
    run_id,
    invocation_seq,
    loaded_at
{%- endmacro %}

{#- The rejection columns every staging model ends with. -#}
{% macro rejection_columns() -%}
    rejection_reason,
    case when rejection_reason is not null then line end as rejected_line
{%- endmacro %}

{#- `name as {{ cte_materialized() }} (...)` for a CTE read twice: DuckDB otherwise inlines it
    into both readers and computes it twice (stg_image_tags would parse every JSON line twice).
    BigQuery has no such keyword (macros/bigquery/staging.sql). -#}
{% macro cte_materialized() -%}
    {{ return(adapter.dispatch('cte_materialized', 'main_image')()) }}
{%- endmacro %}

{% macro default__cte_materialized() -%}
    materialized
{%- endmacro %}
