{#-
    Objects with a repeated key (contract §2: rejected as duplicate_key, because parsers
    disagree about which value wins; DuckDB and BigQuery both read the first).

    DuckDB: a line without whitespace between a key and its colon has exactly one `":` per key
    (at any depth: a `":` inside a string needs an escaped quote, which only adds to the count).
    select_json_fields counts those tokens (`json_key_tokens`, -1 when such whitespace occurs)
    and the known keys its one extraction found (`json_known_keys`): when the two agree, every
    key of the line is a known key found once, so no key repeats. Only the other lines (unknown
    fields, odd spacing, repeated keys) are walked with json_tree, which sees every key; in the
    flat feeds (flag_duplicate_keys_of_flat_objects) only those of them that nest.

    BigQuery SQL cannot tell (PARSE_JSON keeps one value): its loader marks such lines
    (raw line_defect = 'duplicate_key').
-#}

{#- the number of key tokens of JSON text (see above); -1 when a key may be followed by
    whitespace -#}
{% macro json_key_tokens(text) -%}
    {{ return(adapter.dispatch('json_key_tokens', 'main_image')(text)) }}
{%- endmacro %}

{% macro default__json_key_tokens(text) -%}
    case
        when
            strpos({{ text }}, '" ') > 0
            or strpos({{ text }}, '"' || chr(9)) > 0
            or strpos({{ text }}, '"' || chr(13)) > 0
            then -1
        else (strlen({{ text }}) - strlen(replace({{ text }}, '":', ''))) // 2
    end
{%- endmacro %}

{% macro bigquery__json_key_tokens(text) -%}
    cast(null as int64)
{%- endmacro %}

{#- (file_seq, line_number) of the lines of `relation` (columns file_seq, line_number, line,
    line_defect) with a repeated key at any depth; `candidates` is the condition of the lines
    that may have one (DuckDB; BigQuery reads the loader's mark) -#}
{% macro duplicate_key_lines(relation, candidates) -%}
    {{ return(adapter.dispatch('duplicate_key_lines', 'main_image')(relation, candidates)) }}
{%- endmacro %}

{% macro default__duplicate_key_lines(relation, candidates) -%}
    select distinct repeated.file_seq, repeated.line_number
    from (
        select candidates.file_seq, candidates.line_number
        from (
            select file_seq, line_number, line from {{ relation }} where {{ candidates }}
        ) as candidates,
            json_tree(candidates.line) as node
        where node.key is not null
        group by candidates.file_seq, candidates.line_number, node.parent, node.key
        having count(*) > 1
    ) as repeated
{%- endmacro %}

{% macro bigquery__duplicate_key_lines(relation, candidates) -%}
    select file_seq, line_number from {{ relation }} where line_defect = 'duplicate_key'
{%- endmacro %}

{#- the rows of `relation` with `has_duplicate_key`, for a feed whose objects nest
    (stg_main_images; flat feeds use flag_duplicate_keys_of_flat_objects below). DuckDB walks
    the `candidates` lines (duplicate_key_lines above) and reads `relation` twice: make it a
    materialized CTE (cte_materialized()), or DuckDB inlines it into both readers and parses
    every line's JSON twice. -#}
{% macro flag_duplicate_keys(relation, candidates) -%}
    {{ return(adapter.dispatch('flag_duplicate_keys', 'main_image')(relation, candidates)) }}
{%- endmacro %}

{% macro default__flag_duplicate_keys(relation, candidates) -%}
    select
        {{ relation }}.*,
        duplicate_keys.line_number is not null as has_duplicate_key
    from {{ relation }}
    left join (
        {{ duplicate_key_lines(relation, candidates) }}
    ) as duplicate_keys
        on
            {{ relation }}.file_seq = duplicate_keys.file_seq
            and {{ relation }}.line_number = duplicate_keys.line_number
{%- endmacro %}

{#- BigQuery: the loader's mark (raw line_defect), whatever the feed -#}
{% macro bigquery__flag_duplicate_keys(relation, candidates) -%}
    select
        *,
        coalesce(line_defect = 'duplicate_key', false) as has_duplicate_key
    from {{ relation }}
{%- endmacro %}

{#- true when JSON text holds no object or array inside its top-level object: one "{" and no
    "[" (a "{" or "[" inside a string only makes a flat line look nested, which is safe) -#}
{% macro is_flat_json_text(text) -%}
    (strpos({{ text }}, '[') = 0 and strlen({{ text }}) - strlen(replace({{ text }}, '{', '')) = 1)
{%- endmacro %}

{#- flag_duplicate_keys for a feed of flat objects, reading `fields` (select_json_fields over
    `lines`) once, so it needs no materialized CTE (at size m: the same run time, peak RSS
    7.7 -> 5.8 GB, docs/performance.md). A line whose key tokens match its known keys has no
    repeated key; of the others, a flat line compares its top-level keys (json_keys keeps a
    repeated key, list_distinct does not) and only a nested line is walked with json_tree,
    from the raw `lines` (a plain scan) rather than from `fields`. -#}
{% macro flag_duplicate_keys_of_flat_objects(fields, lines) -%}
    {{ return(adapter.dispatch('flag_duplicate_keys_of_flat_objects', 'main_image')(
        fields, lines
    )) }}
{%- endmacro %}

{% macro default__flag_duplicate_keys_of_flat_objects(fields, lines) -%}
    select
        {{ fields }}.*,
        case
            when not {{ fields }}.is_json_object then false
            when {{ fields }}.json_key_tokens = {{ fields }}.json_known_keys then false
            when {{ is_flat_json_text(fields ~ '.line') }}
                then
                    len(json_keys({{ fields }}.line))
                    <> len(list_distinct(json_keys({{ fields }}.line)))
            else nested_duplicates.line_number is not null
        end as has_duplicate_key
    from {{ fields }}
    left join (
        {{ duplicate_key_lines(lines, 'not ' ~ is_flat_json_text('line') ~ ' and json_valid(line)') }}
    ) as nested_duplicates
        on
            {{ fields }}.file_seq = nested_duplicates.file_seq
            and {{ fields }}.line_number = nested_duplicates.line_number
{%- endmacro %}

{#- BigQuery: the loader's mark, as for every feed -#}
{% macro bigquery__flag_duplicate_keys_of_flat_objects(fields, lines) -%}
    {{ bigquery__flag_duplicate_keys(fields, none) }}
{%- endmacro %}
