{{ config(
    partition_by=bq_partition_by('loaded_at'),
    cluster_by=bq_cluster_by(['file_seq']),
) }}

with

source as (
    {{ new_raw_lines(source('raw', 'main_images')) }}
),

fields as {{ cte_materialized() }} (
    {{ select_json_fields('source', 'line', {
        'hotel_id_json': '$.key.hotel_id',
        'value_json': '$.value',
        'image_id_json': '$.value.image_id',
        'cdn_url_json': '$.value.cdn_url',
    }) }}
),

parsed as (
    {{ flag_duplicate_keys('fields', 'is_json_object and json_key_tokens <> json_known_keys') }}
),

typed as (
    select
        {{ provenance_columns() }},
        line,
        is_json_object,
        line_defect,
        has_duplicate_key,
        value_json,
        {{ json_integer('hotel_id_json') }} as hotel_id,
        {{ json_integer('image_id_json') }} as image_id,
        {{ json_string('cdn_url_json') }} as cdn_url
    from parsed
),

validated as (
    select
        *,
        case
            when line_defect = 'invalid_encoding' then 'invalid_encoding'
            when not is_json_object then 'invalid_json'
            when has_duplicate_key then 'duplicate_key'
            when hotel_id is null or hotel_id < 1 then 'invalid_hotel_id'
            when {{ json_is_null('value_json') }} then null
            when not {{ json_is_object('value_json') }} then 'invalid_value'
            when image_id is null or image_id < 1000 then 'invalid_image_id'
            when not {{ is_http_url('cdn_url') }} then 'invalid_cdn_url'
        end as rejection_reason
    from typed
),

final as (
    select
        {{ provenance_columns() }},
        hotel_id,
        case when rejection_reason is null then image_id end as image_id,
        case when rejection_reason is null then cdn_url end as cdn_url,
        {{ rejection_columns() }}
    from validated
)

select * from final
