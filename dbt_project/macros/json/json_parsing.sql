{#-
    JSON helpers. The raw layer keeps every input line as text; staging parses it here.
    Values are extracted as JSON text ("7001", "\"abc\"", "true", "null") so that a
    validation can tell the JSON type apart (a string "7001" is not an integer 7001).
    Engines differ, so every macro dispatches: the default implementation is DuckDB's.
-#}

{#- select * from `relation`, plus one JSON-text column per field (alias -> JSONPath)
    and `is_json_object` (false when the line is not JSON, or JSON but not an object). -#}
{% macro select_json_fields(relation, line_column, fields) -%}
    {{ return(adapter.dispatch('select_json_fields', 'main_image')(
        relation, line_column, fields
    )) }}
{%- endmacro %}

{% macro default__select_json_fields(relation, line_column, fields) -%}
    {%- set paths -%}
        [{%- for path in fields.values() -%}
        '{{ path }}'{{ ", " if not loop.last }}
        {%- endfor -%}]
    {%- endset %}
    select
        * exclude (_is_valid_json, _json_values),
        {%- for alias in fields %}
        cast(_json_values[{{ loop.index }}] as varchar) as {{ alias }}{{ "," if not loop.last }}
        {%- endfor %}
    from (
        select
            *,
            {#- The line is parsed twice: json_valid, then one json_extract for every path.
                json_valid guards the extraction (a malformed line makes json_extract raise, and
                try() would evaluate row by row every vector that holds one malformed line).
                Valid JSON that starts with "{" is an object; other valid lines (leading
                whitespace, arrays, scalars) ask json_type. #}
            case
                when not coalesce(_is_valid_json, false) then false
                when starts_with({{ line_column }}, '{') then true
                else json_type({{ line_column }}) = 'OBJECT'
            end as is_json_object,
            case
                when _is_valid_json then json_extract({{ line_column }}, {{ paths }})
            end as _json_values
        from (select *, json_valid({{ line_column }}) as _is_valid_json from {{ relation }})
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

{#- select `columns` from `relation`, one row per element of the JSON array text `json_text`
    (rows whose `json_text` is not an array give none), the element as JSON text in `element`;
    `where` filters the rows of `relation` -#}
{% macro select_json_array_elements(relation, columns, json_text, element, where='true') -%}
    {{ return(adapter.dispatch('select_json_array_elements', 'main_image')(
        relation, columns, json_text, element, where
    )) }}
{%- endmacro %}

{#- DuckDB: unnest in the select list. A lateral join (`cross join lateral (select unnest(..))`)
    of a CTE is planned as a join of the distinct arrays with their elements (a hash of every
    array's text, built and probed: ~3x slower). -#}
{% macro default__select_json_array_elements(relation, columns, json_text, element, where) -%}
    select
        {{ columns }},
        unnest(cast(json_extract({{ json_text }}, '$[*]') as varchar[])) as {{ element }}
    from {{ relation }}
    where {{ json_is_array(json_text) }} and ({{ where }})
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
