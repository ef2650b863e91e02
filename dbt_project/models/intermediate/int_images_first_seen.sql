{#- The first valid record of every image id (landing order: file, then line): the record that
    made it a new image, and whether its content was already known, i.e. an image of the same
    hotel that was first seen earlier has the same perceptual hash. Append-only: a run adds the
    image ids it sees for the first time; their later records never change these rows. -#}
{{ config(
    materialized='incremental',
    incremental_strategy=append_strategy(),
    on_schema_change='fail',
    partition_by=bq_partition_by('loaded_at'),
    cluster_by=bq_cluster_by(['hotel_id', 'image_hash']),
) }}

with

valid_records as (
    select * from {{ ref('stg_images') }}
    where
        rejection_reason is null
        {%- if is_incremental() %}
        and {{ file_seq_after_completed_run(['images']) }}
        {%- endif %}
),

{# what earlier runs saw: this table (nothing on a full build) #}
known_images as (
    select
        image_id,
        hotel_id,
        image_hash
    from {{ this if is_incremental() else 'valid_records' }}
    where {{ 'true' if is_incremental() else 'false' }}
),

known_contents as (
    select distinct
        hotel_id,
        image_hash
    from known_images
),

ranked_records as (
    select
        *,
        row_number() over (
            partition by image_id
            order by file_seq, line_number
        ) as record_rank
    from valid_records
),

new_images as (
    select ranked_records.*
    from ranked_records
    left join known_images
        on ranked_records.image_id = known_images.image_id
    where
        ranked_records.record_rank = 1
        and known_images.image_id is null
),

ranked_contents as (
    select
        *,
        row_number() over (
            partition by hotel_id, image_hash
            order by file_seq, line_number
        ) as content_rank
    from new_images
),

final as (
    select
        ranked_contents.image_id,
        ranked_contents.hotel_id,
        ranked_contents.image_hash,
        ranked_contents.image_source,
        ranked_contents.channel,
        ranked_contents.mime_type,
        ranked_contents.file_size_bytes,
        ranked_contents.uploaded_at,
        ranked_contents.file_seq,
        ranked_contents.line_number,
        ranked_contents.invocation_seq,
        ranked_contents.loaded_at,
        (
            ranked_contents.content_rank > 1 or known_contents.hotel_id is not null
        ) as is_known_by_content
    from ranked_contents
    left join known_contents
        on
            ranked_contents.hotel_id = known_contents.hotel_id
            and ranked_contents.image_hash = known_contents.image_hash
)

select * from final
