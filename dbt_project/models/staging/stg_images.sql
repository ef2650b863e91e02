{{ config(
    partition_by=bq_partition_by('loaded_at'),
    cluster_by=bq_cluster_by(['file_seq']),
) }}

with

source as (
    {{ new_raw_lines(source('raw', 'images')) }}
),

parsed as (
    {{ select_json_fields('source', 'line', {
        'hotel_id_json': '$.hotel_id',
        'image_id_json': '$.image_id',
        'cdn_url_json': '$.cdn_url',
        'width_json': '$.width',
        'height_json': '$.height',
        'created_at_json': '$.created_at',
        'is_active_json': '$.is_active',
        'hash_json': '$.hash',
        'source_json': '$.source',
        'uploaded_at_json': '$.uploaded_at',
        'mime_type_json': '$.mime_type',
        'file_size_bytes_json': '$.file_size_bytes',
        'camera_make_json': '$.camera_make',
        'camera_model_json': '$.camera_model',
        'gps_lat_json': '$.gps_lat',
        'gps_lon_json': '$.gps_lon',
    }) }}
),

{# the timestamps' texts once: parse_iso_timestamp refers to its argument many times #}
timestamp_texts as (
    select
        *,
        {{ json_string('created_at_json') }} as created_at_text,
        {{ json_string('uploaded_at_json') }} as uploaded_at_text
    from parsed
),

typed as (
    select
        {{ provenance_columns() }},
        line,
        is_json_object,
        {{ json_integer('hotel_id_json') }} as hotel_id,
        {{ json_integer('image_id_json') }} as image_id,
        {{ json_string('cdn_url_json') }} as cdn_url,
        {{ json_integer('width_json') }} as width,
        {{ json_integer('height_json') }} as height,
        {{ parse_iso_timestamp('created_at_text') }} as created_at,
        {{ json_boolean('is_active_json') }} as is_active,
        {{ json_string('hash_json') }} as image_hash,
        {{ json_string('source_json') }} as image_source,
        {{ parse_iso_timestamp('uploaded_at_text') }} as uploaded_at,
        {{ json_string('mime_type_json') }} as mime_type,
        {{ json_integer('file_size_bytes_json') }} as file_size_bytes,
        {{ json_string('camera_make_json') }} as camera_make,
        {{ json_string('camera_model_json') }} as camera_model,
        {{ json_number('gps_lat_json') }} as gps_lat,
        {{ json_number('gps_lon_json') }} as gps_lon
    from timestamp_texts
),

validated as (
    select
        *,
        case
            when not is_json_object then 'invalid_json'
            when hotel_id is null or hotel_id < 1 then 'invalid_hotel_id'
            when image_id is null or image_id < 1000 then 'invalid_image_id'
            when not {{ is_http_url('cdn_url') }} then 'invalid_cdn_url'
            when width is null or width < 0 then 'invalid_width'
            when height is null or height < 0 then 'invalid_height'
            when created_at is null then 'invalid_created_at'
            when is_active is null then 'invalid_is_active'
            when
                not coalesce({{ regex_full_match('image_hash', '[0-9a-f]{16}') }}, false)
                then 'invalid_hash'
        end as rejection_reason
    from typed
),

final as (
    select
        {{ provenance_columns() }},
        hotel_id,
        image_id,
        cdn_url,
        width,
        height,
        created_at,
        cast(created_at as date) as created_date,
        is_active,
        image_hash,
        image_source,
        uploaded_at,
        mime_type,
        file_size_bytes,
        camera_make,
        camera_model,
        gps_lat,
        gps_lon,
        {{ rejection_columns() }}
    from validated
)

select * from final
