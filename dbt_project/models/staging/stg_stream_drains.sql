{#- The stream lander's drain records (main_image.stream.report): one line per partition a
    drain owned, with what it landed and the partition's lag before and after. Written by the
    platform, not by a partner: a line that breaks its shape is kept with its reason, like a
    rejected feed line, but it is not a contract rejection (fct_rejected_records and the run
    metrics count the contract feeds only). -#}
{{ config(
    partition_by=bq_partition_by('loaded_at'),
    cluster_by=bq_cluster_by(['file_seq']),
) }}

with

source as (
    {{ new_raw_lines(source('raw', 'stream_drains')) }}
),

fields as (
    {{ select_json_fields('source', 'line', {
        'drain_id_json': '$.drain_id',
        'group_id_json': '$.group_id',
        'follow_json': '$.follow',
        'started_at_json': '$.started_at',
        'finished_at_json': '$.finished_at',
        'topic_json': '$.topic',
        'partition_json': '$.partition',
        'messages_json': '$.messages',
        'files_json': '$.files',
        'bytes_json': '$.bytes',
        'relanded_files_json': '$.relanded_files',
        'resets_json': '$.resets',
        'lag_before_json': '$.lag_before',
        'lag_after_json': '$.lag_after',
        'first_offset_json': '$.first_offset',
        'last_offset_json': '$.last_offset',
    }) }}
),

timestamp_texts as (
    select
        *,
        {{ json_string('started_at_json') }} as started_at_text,
        {{ json_string('finished_at_json') }} as finished_at_text
    from fields
),

typed as (
    select
        {{ provenance_columns() }},
        line,
        is_json_object,
        line_defect,
        {{ json_string('drain_id_json') }} as drain_id,
        {{ json_string('group_id_json') }} as group_id,
        {{ json_boolean('follow_json') }} as is_follow,
        {{ parse_iso_timestamp('started_at_text') }} as started_at,
        {{ parse_iso_timestamp('finished_at_text') }} as finished_at,
        {{ json_string('topic_json') }} as topic,
        {{ json_integer('partition_json') }} as topic_partition,
        {{ json_integer('messages_json') }} as messages,
        {{ json_integer('files_json') }} as files,
        {{ json_integer('bytes_json') }} as landed_bytes,
        {{ json_integer('relanded_files_json') }} as relanded_files,
        {{ json_integer('resets_json') }} as offset_resets,
        {{ json_integer('lag_before_json') }} as lag_before,
        {{ json_integer('lag_after_json') }} as lag_after,
        {{ json_integer('first_offset_json') }} as first_offset,
        {{ json_integer('last_offset_json') }} as last_offset
    from timestamp_texts
),

validated as (
    select
        *,
        case
            when line_defect = 'invalid_encoding' then 'invalid_encoding'
            when not is_json_object then 'invalid_json'
            when drain_id is null or drain_id = '' then 'invalid_drain_id'
            when topic is null or topic = '' then 'invalid_topic'
            when topic_partition is null or topic_partition < 0 then 'invalid_partition'
            when finished_at is null or started_at is null then 'invalid_timestamp'
            when
                messages is null or files is null or landed_bytes is null
                or messages < 0 or files < 0 or landed_bytes < 0
                then 'invalid_count'
        end as rejection_reason
    from typed
),

final as (
    select
        {{ provenance_columns() }},
        drain_id,
        group_id,
        is_follow,
        started_at,
        finished_at,
        topic,
        topic_partition,
        messages,
        files,
        landed_bytes,
        relanded_files,
        offset_resets,
        lag_before,
        lag_after,
        first_offset,
        last_offset,
        {{ rejection_columns() }}
    from validated
)

select * from final
