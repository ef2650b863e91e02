{#- The columns every staging model carries. -#}

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
