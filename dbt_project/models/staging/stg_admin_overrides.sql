{{ config(
    partition_by=bq_partition_by('loaded_at'),
    cluster_by=bq_cluster_by(['file_seq']),
) }}

with

source as (
    {{ new_raw_lines(source('raw', 'admin_overrides')) }}
),

fields as (
    {{ select_json_fields('source', 'line', {
        'hotel_id_json': '$.hotel_id',
        'image_id_json': '$.image_id',
        'set_by_json': '$.set_by',
        'set_at_json': '$.set_at',
    }) }}
),

parsed as (
    {{ flag_duplicate_keys_of_flat_objects('fields', 'source') }}
),

typed as (
    select
        {{ provenance_columns() }},
        line,
        is_json_object,
        line_defect,
        has_duplicate_key,
        image_id_json,
        {{ json_integer('hotel_id_json') }} as hotel_id,
        {{ json_integer('image_id_json') }} as image_id,
        {{ json_string('set_by_json') }} as set_by,
        {{ parse_iso_timestamp(json_string('set_at_json')) }} as set_at
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
            when not {{ json_is_null('image_id_json') }} and (image_id is null or image_id < 1000)
                then 'invalid_image_id'
            when set_by is null or set_by = '' then 'invalid_set_by'
            when set_at is null then 'invalid_set_at'
        end as rejection_reason
    from typed
),

final as (
    select
        {{ provenance_columns() }},
        hotel_id,
        image_id,
        image_id is null as is_clear,
        set_by,
        set_at,
        {{ rejection_columns() }}
    from validated
)

select * from final
