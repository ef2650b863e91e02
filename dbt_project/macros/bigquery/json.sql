{#-
    BigQuery (GoogleSQL) versions of the JSON helpers in macros/json/json_parsing.sql.

    The contract is the DuckDB one: a field comes out as JSON text ("7001", "\"abc\"", "true",
    "null", "{...}", "[...]"), SQL NULL when the path is missing or the line is not JSON.

    * Every line is parsed once with SAFE.PARSE_JSON (NULL for a line that is not JSON), and
      string-input JSON functions are only called on lines that parsed: the emulator raises on
      malformed input. wide_number_mode => 'round' keeps a line with a long decimal valid (the
      default 'exact' mode would reject the whole line); integers are validated on the text.
    * JSON_QUERY on a STRING returns the value as JSON text, but a JSON null comes back as SQL
      NULL on BigQuery (the emulator returns 'null'); the JSON-typed JSON_QUERY keeps a JSON
      null, so JSON_TYPE(...) = 'null' tells "null" apart from "missing" on both.
    * TO_JSON_STRING(JSON) is avoided: the emulator double-encodes it.
-#}

{% macro bigquery__json_text_at(json_text, parsed_json, path) -%}
    case
        when {{ parsed_json }} is null then null
        when json_type(json_query({{ parsed_json }}, '{{ path }}')) = 'null' then 'null'
        else json_query({{ json_text }}, '{{ path }}')
    end
{%- endmacro %}

{% macro bigquery__select_json_fields(relation, line_column, fields) -%}
    select
        * except (_parsed_json),
        {%- for alias, path in fields.items() %}
        {{ bigquery__json_text_at(line_column, '_parsed_json', path) }} as {{ alias -}}
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

{% macro bigquery__json_get(json_text, path) -%}
    {{ bigquery__json_text_at(
        json_text, "safe.parse_json(" ~ json_text ~ ", wide_number_mode => 'round')", path
    ) }}
{%- endmacro %}

{#- only called on JSON text that is a JSON string (json_string checks the leading quote) -#}
{% macro bigquery__json_string_value(json_text) -%}
    json_value({{ json_text }}, '$')
{%- endmacro %}

{#- One row per element of the JSON array text `json_text`, each element as JSON text in
    `element` (a lateral join). Not an array (or NULL): no row. The guard on the first character
    keeps non-arrays away from JSON_QUERY_ARRAY (the emulator raises on them; BigQuery returns
    NULL). The ARRAY(...) re-types the elements as STRING: the emulator types them JSON; on
    BigQuery JSON_QUERY_ARRAY of a STRING is ARRAY<STRING> already. -#}
{% macro bigquery__select_json_array_elements(relation, columns, json_text, element, where) -%}
    select
        {{ columns }},
        {{ element }}
    from {{ relation }}
    cross join unnest(array(
        select cast(_json_element as string)
        from unnest(json_query_array(
            case when substr({{ json_text }}, 1, 1) = '[' then {{ json_text }} end, '$'
        )) as _json_element
    )) as {{ element }}
    where {{ where }}
{%- endmacro %}
