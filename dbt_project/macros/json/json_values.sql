{#-
    JSON types and typed values of JSON text (the text select_json_fields and json_get return).
    Engine-neutral: they are written with regex_full_match, safe_cast_to and json_string_value,
    which dispatch.
-#}

{#- JSON type predicates on JSON text (engine-neutral: they only use regex_full_match) -#}
{% macro json_is_integer(json_text) -%}
    coalesce({{ regex_full_match(json_text, '-?[0-9]+') }}, false)
{%- endmacro %}

{% macro json_is_number(json_text) -%}
    coalesce({{ regex_full_match(json_text, '-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?') }}, false)
{%- endmacro %}

{% macro json_is_string(json_text) -%}
    coalesce(substr({{ json_text }}, 1, 1) = '"', false)
{%- endmacro %}

{% macro json_is_boolean(json_text) -%}
    coalesce({{ json_text }} in ('true', 'false'), false)
{%- endmacro %}

{% macro json_is_null(json_text) -%}
    coalesce({{ json_text }} = 'null', false)
{%- endmacro %}

{% macro json_is_array(json_text) -%}
    coalesce(substr({{ json_text }}, 1, 1) = '[', false)
{%- endmacro %}

{% macro json_is_object(json_text) -%}
    coalesce(substr({{ json_text }}, 1, 1) = '{', false)
{%- endmacro %}

{#- a JSON integer as bigint (null when it does not fit) -#}
{% macro json_to_bigint(json_text) -%}
    {{ safe_cast_to(json_text, api.Column.translate_type('bigint')) }}
{%- endmacro %}

{% macro json_to_double(json_text) -%}
    {{ safe_cast_to(json_text, type_double()) }}
{%- endmacro %}

{#- typed values of JSON text: null unless the JSON value has that type -#}
{% macro json_integer(json_text) -%}
    case when {{ json_is_integer(json_text) }} then {{ json_to_bigint(json_text) }} end
{%- endmacro %}

{% macro json_number(json_text) -%}
    case when {{ json_is_number(json_text) }} then {{ json_to_double(json_text) }} end
{%- endmacro %}

{% macro json_string(json_text) -%}
    case when {{ json_is_string(json_text) }} then {{ json_string_value(json_text) }} end
{%- endmacro %}

{% macro json_boolean(json_text) -%}
    case when {{ json_is_boolean(json_text) }} then {{ json_text }} = 'true' end
{%- endmacro %}

{#- an absolute http(s) URL with a host -#}
{% macro is_http_url(text) -%}
    coalesce({{ regex_full_match(text, 'https?://[^/ ?#]+([/?#][^ ]*)?') }}, false)
{%- endmacro %}
