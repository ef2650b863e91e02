{{ config(
    partition_by=bq_partition_by('loaded_at'),
    cluster_by=bq_cluster_by(['file_seq']),
) }}

with

source as (
    {{ new_raw_lines(source('raw', 'images')) }}
),

fields as (
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
        'channel_json': '$.channel',
        'uploaded_at_json': '$.uploaded_at',
        'mime_type_json': '$.mime_type',
        'file_size_bytes_json': '$.file_size_bytes',
        'camera_make_json': '$.camera_make',
        'camera_model_json': '$.camera_model',
        'gps_lat_json': '$.gps_lat',
        'gps_lon_json': '$.gps_lon',
    }) }}
),

parsed as (
    {{ flag_duplicate_keys_of_flat_objects('fields', 'source') }}
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
        line_defect,
        has_duplicate_key,
        {#- the optional fields as JSON text: absent or JSON null is fine, else it must fit -#}
        source_json,
        channel_json,
        uploaded_at_json,
        mime_type_json,
        file_size_bytes_json,
        camera_make_json,
        camera_model_json,
        gps_lat_json,
        gps_lon_json,
        {{ json_integer('hotel_id_json') }} as hotel_id,
        {{ json_integer('image_id_json') }} as image_id,
        {{ json_string('cdn_url_json') }} as cdn_url,
        {{ json_integer('width_json') }} as width,
        {{ json_integer('height_json') }} as height,
        {{ parse_iso_timestamp('created_at_text') }} as created_at,
        {{ json_boolean('is_active_json') }} as is_active,
        {{ json_string('hash_json') }} as image_hash,
        {{ json_string('source_json') }} as image_source,
        {{ json_string('channel_json') }} as channel,
        {{ parse_iso_timestamp('uploaded_at_text') }} as uploaded_at,
        {{ json_string('mime_type_json') }} as mime_type,
        {{ json_integer('file_size_bytes_json') }} as file_size_bytes,
        {{ json_string('camera_make_json') }} as camera_make,
        {{ json_string('camera_model_json') }} as camera_model,
        {{ json_number('gps_lat_json') }} as gps_lat,
        {{ json_number('gps_lon_json') }} as gps_lon
    from timestamp_texts
),

{# each optional field: absent, or present with a value that fits (contract §2) #}
checked as (
    select
        *,
        {{ optional_field_fits('source_json', "image_source <> ''") }} as source_fits,
        {{ optional_field_fits('channel_json', "channel in ('upload', 'stream', 'feed')") }}
            as channel_fits,
        {{ optional_field_fits('uploaded_at_json', 'uploaded_at is not null') }}
            as uploaded_at_fits,
        {{ optional_field_fits(
            'mime_type_json', regex_full_match('mime_type', mime_type_pattern())
        ) }} as mime_type_fits,
        {{ optional_field_fits('file_size_bytes_json', 'file_size_bytes >= 0') }}
            as file_size_bytes_fits,
        {{ optional_field_fits('camera_make_json', "camera_make <> ''") }} as camera_make_fits,
        {{ optional_field_fits('camera_model_json', "camera_model <> ''") }} as camera_model_fits,
        {{ optional_field_fits('gps_lat_json', 'gps_lat between -90 and 90') }} as gps_lat_fits,
        {{ optional_field_fits('gps_lon_json', 'gps_lon between -180 and 180') }} as gps_lon_fits,
        {{ json_is_present('gps_lat_json') }} = {{ json_is_present('gps_lon_json') }}
            as gps_is_complete
    from typed
),

validated as (
    select
        *,
        case
            when line_defect = 'invalid_encoding' then 'invalid_encoding'
            when not is_json_object then 'invalid_json'
            when has_duplicate_key then 'duplicate_key'
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
            when not source_fits then 'invalid_source'
            when not channel_fits then 'invalid_channel'
            when not uploaded_at_fits then 'invalid_uploaded_at'
            when not mime_type_fits then 'invalid_mime_type'
            when not file_size_bytes_fits then 'invalid_file_size_bytes'
            when not camera_make_fits then 'invalid_camera_make'
            when not camera_model_fits then 'invalid_camera_model'
            when not gps_lat_fits then 'invalid_gps_lat'
            when not gps_lon_fits then 'invalid_gps_lon'
            when not gps_is_complete then 'incomplete_gps'
        end as rejection_reason
    from checked
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
        {#- an optional value that does not fit is null (its line is kept in rejected_line) #}
        case when source_fits then image_source end as image_source,
        case when channel_fits then channel end as channel,
        case when uploaded_at_fits then uploaded_at end as uploaded_at,
        case when mime_type_fits then mime_type end as mime_type,
        case when file_size_bytes_fits then file_size_bytes end as file_size_bytes,  -- noqa: RF04
        case when camera_make_fits then camera_make end as camera_make,
        case when camera_model_fits then camera_model end as camera_model,
        case when gps_lat_fits and gps_is_complete then gps_lat end as gps_lat,
        case when gps_lon_fits and gps_is_complete then gps_lon end as gps_lon,
        {{ rejection_columns() }}
    from validated
)

select * from final
