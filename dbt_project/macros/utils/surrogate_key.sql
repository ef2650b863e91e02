{#- a stable hash of the given columns (nulls and separators handled), like dbt_utils' -#}
{% macro surrogate_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- set text = "cast(" ~ column ~ " as " ~ api.Column.translate_type('string') ~ ")" -%}
        {%- do parts.append("coalesce(" ~ text ~ ", '_null_')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
