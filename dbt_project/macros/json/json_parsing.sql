{#-
    JSON helpers. The raw layer keeps every input line as text; staging parses it here.
    Values are extracted as JSON text ("7001", "\"abc\"", "true", "null") so that a
    validation can tell the JSON type apart (a string "7001" is not an integer 7001).
    Engines differ, so every macro dispatches: the default implementation is DuckDB's.
-#}

{#- select * from `relation`, plus one JSON-text column per field (alias -> JSONPath)
    and `is_json_object`. The line is parsed once per row. -#}
{% macro select_json_fields(relation, line_column, fields) -%}
    {{ return(adapter.dispatch('select_json_fields', 'main_image')(relation, line_column, fields)) }}
{%- endmacro %}

{% macro default__select_json_fields(relation, line_column, fields) -%}
    select
        * exclude (_json_values),
        {%- for alias in fields %}
        cast(_json_values[{{ loop.index }}] as varchar) as {{ alias }}{{ "," if not loop.last }}
        {%- endfor %}
    from (
        select
            *,
            {#- json_valid guards the parse: try() alone falls back to row-at-a-time evaluation
                for every vector that holds one malformed line (most vectors of a large file);
                the try() branches only see the lines json_valid rejects. #}
            case
                when json_valid({{ line_column }}) then json_type({{ line_column }}) = 'OBJECT'
                else coalesce(try(json_type({{ line_column }}) = 'OBJECT'), false)
            end as is_json_object,
            {%- set paths -%}
                [{%- for path in fields.values() -%}
                '{{ path }}'{{ ", " if not loop.last }}
                {%- endfor -%}]
            {%- endset %}
            case
                when json_valid({{ line_column }}) then json_extract({{ line_column }}, {{ paths }})
                else try(json_extract({{ line_column }}, {{ paths }}))
            end as _json_values
        from {{ relation }}
    )
{%- endmacro %}

{#- the JSON text at `path` inside the JSON text `json_text` -#}
{% macro json_get(json_text, path) -%}
    {{ return(adapter.dispatch('json_get', 'main_image')(json_text, path)) }}
{%- endmacro %}

{% macro default__json_get(json_text, path) -%}
    cast(json_extract({{ json_text }}, '{{ path }}') as varchar)
{%- endmacro %}

{#- the string value of a JSON string (unquoted, unescaped) -#}
{% macro json_string_value(json_text) -%}
    {{ return(adapter.dispatch('json_string_value', 'main_image')(json_text)) }}
{%- endmacro %}

{% macro default__json_string_value(json_text) -%}
    json_extract_string({{ json_text }}, '$')
{%- endmacro %}

{#- a lateral join producing one row per element of the JSON array `json_text`,
    each element as JSON text in column `element` -#}
{% macro unnest_json_array(json_text, alias, element) -%}
    {{ return(adapter.dispatch('unnest_json_array', 'main_image')(json_text, alias, element)) }}
{%- endmacro %}

{#- DuckDB: a lateral subquery, not `cross join unnest(<expression>)`, which DuckDB plans as a
    join of the distinct arrays with their elements (hashing every array's text, ~3x slower) -#}
{% macro default__unnest_json_array(json_text, alias, element) -%}
    cross join lateral (
        select unnest(cast(json_extract({{ json_text }}, '$[*]') as varchar[])) as {{ element }}
    ) as {{ alias }}
{%- endmacro %}

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
