{#-
    BigQuery physical design, used in the models' config blocks. Each helper returns `none` on
    every other engine, so DuckDB sees no partition_by / cluster_by at all (dbt-duckdb would
    otherwise try to apply them). See docs/bigquery.md for the table of choices.

        {{ config(partition_by=bq_partition_by('as_of', 'date'), cluster_by=bq_cluster_by(['hotel_id'])) }}
-#}

{%- macro bq_partition_by(field, data_type='timestamp', granularity='day') -%}
    {%- if target.type == 'bigquery' -%}
        {{ return({'field': field, 'data_type': data_type, 'granularity': granularity}) }}
    {%- else -%}
        {{ return(none) }}
    {%- endif -%}
{%- endmacro -%}

{%- macro bq_cluster_by(columns) -%}
    {{ return(columns if target.type == 'bigquery' else none) }}
{%- endmacro -%}

{#- dbt-bigquery has no `append` strategy: merge without a unique_key inserts only. -#}
{%- macro append_strategy() -%}
    {{ return('merge' if target.type == 'bigquery' else 'append') }}
{%- endmacro -%}
