{#- The string value of a JSON string (unquoted, unescaped). -#}

{#- the string value of a JSON string (unquoted, unescaped) -#}
{% macro json_string_value(json_text) -%}
    {{ return(adapter.dispatch('json_string_value', 'main_image')(json_text)) }}
{%- endmacro %}

{% macro default__json_string_value(json_text) -%}
    json_extract_string({{ json_text }}, '$')
{%- endmacro %}

{#- only called on JSON text that is a JSON string (json_string checks the leading quote) -#}
{% macro bigquery__json_string_value(json_text) -%}
    json_value({{ json_text }}, '$')
{%- endmacro %}
