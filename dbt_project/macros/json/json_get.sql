{#- The JSON text at a JSONPath inside JSON text. -#}

{#- the JSON text at `path` inside the JSON text `json_text` -#}
{% macro json_get(json_text, path) -%}
    {{ return(adapter.dispatch('json_get', 'main_image')(json_text, path)) }}
{%- endmacro %}

{% macro default__json_get(json_text, path) -%}
    cast(json_extract({{ json_text }}, '{{ path }}') as varchar)
{%- endmacro %}

{% macro bigquery__json_get(json_text, path) -%}
    {{ bq_json_text_at(
        json_text, "safe.parse_json(" ~ json_text ~ ", wide_number_mode => 'round')", path
    ) }}
{%- endmacro %}

{#- BigQuery: the JSON text at `path` of a line parsed into `parsed_json` (also used by
    bigquery__select_json_fields). JSON_QUERY on a STRING returns the value as JSON text, but a
    JSON null comes back as SQL NULL on BigQuery (the emulator returns 'null'); the JSON-typed
    JSON_QUERY keeps a JSON null, so JSON_TYPE(...) = 'null' tells "null" apart from "missing"
    on both. -#}
{% macro bq_json_text_at(json_text, parsed_json, path) -%}
    case
        when {{ parsed_json }} is null then null
        when json_type(json_query({{ parsed_json }}, '{{ path }}')) = 'null' then 'null'
        else json_query({{ json_text }}, '{{ path }}')
    end
{%- endmacro %}
