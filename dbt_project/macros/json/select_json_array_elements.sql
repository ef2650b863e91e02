{#- One row per element of a JSON array. -#}

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
