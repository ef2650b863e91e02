{#-
    select * from a relation, plus one JSON-text column per field. JSON text is how staging
    keeps a value's JSON type ("7001", "\"abc\"", "true", "null", "{...}", "[...]"; SQL NULL
    when the path is missing or the line is not JSON), so that a validation can tell the types
    apart (a string "7001" is not an integer 7001). The typed values are in json_values.sql.
-#}

{#- select * from `relation`, plus one JSON-text column per field (alias -> JSONPath)
    and `is_json_object` (false when the line is not JSON, or JSON but not an object). -#}
{#- DuckDB also returns json_key_tokens and json_known_keys (duplicate_keys.sql): the keys
    found among the fields' paths and their parents, plus every occurrence of a key named in
    `repeated_keys` (keys of the objects of an array, e.g. the tags). -#}
{% macro select_json_fields(relation, line_column, fields, repeated_keys=[]) -%}
    {{ return(adapter.dispatch('select_json_fields', 'main_image')(
        relation, line_column, fields, repeated_keys
    )) }}
{%- endmacro %}

{% macro default__select_json_fields(relation, line_column, fields, repeated_keys) -%}
    {%- set all_paths = [] -%}
    {%- for path in fields.values() -%}
        {%- set parts = path[2:].split('.') -%}
        {%- for depth in range(1, parts | length + 1) -%}
            {%- set prefix = '$.' ~ parts[:depth] | join('.') -%}
            {%- if prefix not in all_paths and prefix not in fields.values() -%}
                {%- do all_paths.append(prefix) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set extracted = (fields.values() | list) + all_paths -%}
    {%- set paths -%}
        [{%- for path in extracted -%}
        '{{ path }}'{{ ", " if not loop.last }}
        {%- endfor -%}]
    {%- endset %}
    select
        * exclude (_is_valid_json, _json_values),
        {%- for alias in fields %}
        cast(_json_values[{{ loop.index }}] as varchar) as {{ alias }},
        {%- endfor %}
        {{ json_key_tokens(line_column) }} as json_key_tokens,
        (
            {%- for path in extracted %}
            case when _json_values[{{ loop.index }}] is not null then 1 else 0 end
            {{- " +" if not loop.last }}
            {%- endfor %}
            {%- for key in repeated_keys %}
            + (strlen({{ line_column }}) - strlen(replace({{ line_column }}, '"{{ key }}":', '')))
            // {{ key | length + 3 }}
            {%- endfor %}
        ) as json_known_keys
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

{#- BigQuery: every line is parsed once with SAFE.PARSE_JSON (NULL for a line that is not
    JSON), and string-input JSON functions are only called on lines that parsed: the emulator
    raises on malformed input. wide_number_mode => 'round' keeps a line with a long decimal valid
    (the default 'exact' mode would reject the whole line); integers are validated on the text.
    TO_JSON_STRING(JSON) is avoided: the emulator double-encodes it. -#}
{% macro bigquery__select_json_fields(relation, line_column, fields, repeated_keys) -%}
    select
        * except (_parsed_json),
        {%- for alias, path in fields.items() %}
        {{ bq_json_text_at(line_column, '_parsed_json', path) }} as {{ alias -}}
        {{ "," if not loop.last }}
        {%- endfor %}
    from (
        select
            *,
            coalesce(json_type(safe.parse_json({{ line_column }}, wide_number_mode => 'round')) = 'object', false)
                as is_json_object,
            safe.parse_json({{ line_column }}, wide_number_mode => 'round') as _parsed_json
        from {{ relation }}
    )
{%- endmacro %}
