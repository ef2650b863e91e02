{#- The latest valid state of every image (landing order: file, then line). Incremental: only
    images with new records are rewritten; new records always come later in landing order. -#}
{{ config(
    materialized='incremental',
    unique_key='image_id',
    incremental_strategy=('merge' if target.type == 'bigquery' else 'delete+insert'),
    cluster_by=bq_cluster_by(['hotel_id', 'image_id']),
) }}

with

new_records as (
    select * from {{ ref('stg_images') }}
    where
        rejection_reason is null
        {%- if is_incremental() %}
        and {{ file_seq_after_completed_run(['images']) }}
        {%- endif %}
),

latest_per_image as (
    select
        *,
        row_number() over (
            partition by image_id
            order by file_seq desc, line_number desc
        ) as recency_rank
    from new_records
),

final as (
    select
        image_id,
        hotel_id,
        cdn_url,
        width,
        height,
        created_at,
        created_date,
        is_active,
        image_hash,
        image_source,
        channel,
        mime_type,
        file_size_bytes,
        camera_make,
        camera_model,
        file_seq,
        line_number,
        invocation_seq
    from latest_per_image
    where recency_rank = 1
)

select * from final
