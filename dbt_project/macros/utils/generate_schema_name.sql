{#- Models land in the schema (BigQuery: dataset) named by their folder's `+schema`
    (staging, marts, reporting), not "<target schema>_<name>": the datasets are owned by
    Terraform and shared by every environment's project. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ var('schema_prefix', env_var('MAIN_IMAGE_DBT_SCHEMA_PREFIX', '')) -}}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
