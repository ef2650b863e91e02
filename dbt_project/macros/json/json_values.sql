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

{#- an absolute http(s) URL (the scheme in any letter case) with a host, a port in 1..65535 if
    any, and no (ASCII) whitespace or control character anywhere (contract §2). The host is a
    name or an IP literal in brackets; user information before an "@" is allowed. -#}
{% macro http_url_pattern() -%}
    {%- set no_space = '[:space:][:cntrl:]' -%}
    {%- set port = '(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}'
        ~ '|[1-9][0-9]{0,3})' -%}
    (?i:https?)://([^/?#@{{ no_space }}]*@)?([^][/?#@:{{ no_space }}]+|[[][0-9a-fA-F:.]+[]])(:{{ port }})?([/?#][^{{ no_space }}]*)?
{%- endmacro %}

{% macro is_http_url(text) -%}
    coalesce({{ regex_full_match(text, http_url_pattern()) }}, false)
{%- endmacro %}
