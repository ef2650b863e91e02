{{ config(
    partition_by=bq_partition_by('loaded_at'),
    cluster_by=bq_cluster_by(['file_seq']),
) }}

with

source as (
    {{ new_raw_lines(source('raw', 'obiq_scores')) }}
),

fields as (
    {{ select_json_fields('source', 'line', {
        'image_id_json': '$.image_id',
        'obiq_score_json': '$.obiq_score',
        'version_json': '$.version',
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
        {{ json_integer('image_id_json') }} as image_id,
        {{ json_number('obiq_score_json') }} as obiq_score,
        {{ json_string('version_json') }} as obiq_version
    from parsed
),

validated as (
    select
        *,
        case
            when line_defect = 'invalid_encoding' then 'invalid_encoding'
            when not is_json_object then 'invalid_json'
            when has_duplicate_key then 'duplicate_key'
            when image_id is null or image_id < 1000 then 'invalid_image_id'
            when obiq_score is null or obiq_score < 0 or obiq_score > 1 then 'invalid_obiq_score'
            when obiq_version is null or obiq_version = '' then 'invalid_version'
            when not {{ version_parts_fit('obiq_version') }} then 'obiq_version_out_of_range'
        end as rejection_reason
    from typed
),

final as (
    select
        {{ provenance_columns() }},
        image_id,
        obiq_score,
        obiq_version,
        {{ rejection_columns() }}
    from validated
)

select * from final
