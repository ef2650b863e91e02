{#-
    The change log (CDC) of main images: one row per change per run, append-only. A change is
    emitted when a hotel in scope has a selection that differs from its published main image
    (new / updated) or has no candidate left while it has one (deleted). Never rebuilt by
    `dbt --full-refresh` (full_refresh=false): it is the history the frontend has consumed.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy=append_strategy(),
    full_refresh=false,
    on_schema_change='fail',
    partition_by=bq_partition_by('as_of', 'date'),
    cluster_by=bq_cluster_by(['hotel_id']),
) }}

with

scope as (
    select hotel_id from {{ ref('int_hotels_in_scope') }}
),

selected as (
    select * from {{ ref('int_main_image_selected') }}
),

published as (
    {{ latest_published_main_images(
        ref('stg_main_images'),
        this if is_incremental() else none,
        'scope',
    ) }}
),

current_main_images as (
    select * from published
    where image_id is not null
),

compared as (
    select
        coalesce(selected.hotel_id, current_main_images.hotel_id) as hotel_id,
        current_main_images.image_id as previous_image_id,
        current_main_images.cdn_url as previous_cdn_url,
        selected.image_id,
        selected.cdn_url,
        selected.score,
        selected.selection_source,
        case
            when current_main_images.hotel_id is null then 'new'
            when selected.hotel_id is null then 'deleted'
            when
                current_main_images.image_id <> selected.image_id
                or current_main_images.cdn_url <> selected.cdn_url
                then 'updated'
        end as change_type
    from selected
    full outer join current_main_images
        on selected.hotel_id = current_main_images.hotel_id
),

final as (
    select
        {{ surrogate_key([invocation_seq_literal(), 'hotel_id']) }} as change_id,
        {{ run_id_literal() }} as run_id,
        {{ invocation_seq_literal() }} as invocation_seq,
        {{ as_of_date() }} as as_of,
        hotel_id,
        change_type,
        previous_image_id,
        previous_cdn_url,
        image_id,
        cdn_url,
        score,
        '{{ active_scoring_version() }}' as scoring_version,
        selection_source
    from compared
    where change_type is not null
)

select * from final
