{#- BigQuery: partitioned by the event's day (the access path of rpt_image_engagement_daily),
    clustered by load order (the new-rows filters prune on it). -#}
{{ config(
    partition_by=bq_partition_by('occurred_at'),
    cluster_by=bq_cluster_by(['file_seq']),
) }}

with

source as (
    {{ new_raw_lines(source('raw', 'user_events')) }}
),

fields as (
    {{ select_json_fields('source', 'line', {
        'event_id_json': '$.event_id',
        'event_type_json': '$.event_type',
        'occurred_at_json': '$.occurred_at',
        'hotel_id_json': '$.hotel_id',
        'image_id_json': '$.image_id',
        'search_term_json': '$.search_term',
        'user_id_json': '$.user_id',
    }) }}
),

parsed as (
    {{ flag_duplicate_keys_of_flat_objects('fields', 'source') }}
),

{# the timestamp's text once: parse_iso_timestamp refers to its argument many times #}
timestamp_texts as (
    select
        *,
        {{ json_string('occurred_at_json') }} as occurred_at_text
    from parsed
),

typed as (
    select
        {{ provenance_columns() }},
        line,
        is_json_object,
        line_defect,
        has_duplicate_key,
        image_id_json,
        hotel_id_json,
        search_term_json,
        coalesce(
            {{ json_string('event_id_json') }},
            cast({{ json_integer('event_id_json') }} as {{ dbt.type_string() }})
        )
            as event_id,
        {{ json_string('event_type_json') }} as event_type,
        {{ parse_iso_timestamp('occurred_at_text') }} as occurred_at,
        {{ json_integer('hotel_id_json') }} as hotel_id,
        {{ json_integer('image_id_json') }} as image_id,
        {{ json_string('search_term_json') }} as search_term,
        coalesce(
            {{ json_string('user_id_json') }},
            cast({{ json_integer('user_id_json') }} as {{ dbt.type_string() }})
        )
            as user_id
    from timestamp_texts
),

validated as (
    select
        *,
        case
            when line_defect = 'invalid_encoding' then 'invalid_encoding'
            when not is_json_object then 'invalid_json'
            when has_duplicate_key then 'duplicate_key'
            when event_id is null or event_id = '' then 'invalid_event_id'
            when
                event_type is null
                or event_type not in ('search', 'impression', 'click', 'report')
                then 'invalid_event_type'
            when occurred_at is null then 'invalid_occurred_at'
            {#- a search may name no hotel; the other events are about a hotel's image #}
            when
                event_type = 'search'
                and not {{ optional_field_fits('hotel_id_json', 'hotel_id >= 1') }}
                then 'invalid_hotel_id'
            when
                event_type <> 'search' and (hotel_id is null or hotel_id < 1)
                then 'invalid_hotel_id'
            when
                event_type = 'search' and {{ json_is_present('image_id_json') }}
                then 'invalid_image_id'
            when event_type <> 'search' and image_id is null then 'invalid_image_id'
            {#- a search carries its term; the other events the term searched before, if any #}
            when
                event_type = 'search' and {{ normalised_search_term('search_term') }} is null
                then 'invalid_search_term'
            when
                not {{ optional_field_fits('search_term_json', 'search_term is not null') }}
                then 'invalid_search_term'
        end as rejection_reason
    from typed
),

final as (
    select
        {{ provenance_columns() }},
        event_id,
        event_type,
        occurred_at,
        hotel_id,
        image_id,
        search_term,
        user_id,
        {{ rejection_columns() }}
    from validated
)

select * from final
