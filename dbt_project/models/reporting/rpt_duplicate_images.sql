{#- Duplicate images: groups of a hotel's current images (latest state, active) that share a
    perceptual hash, one row per image of a group of two or more. The group's representative is
    the hotel's current main image when it is in the group, else the image with the most pixels,
    then the lowest image id. -#}
{#- Incremental by hotel: a hotel's groups change only with its image records and its main
    image, and both put the hotel in int_hotels_in_scope (a moved image puts its old hotel there
    too; a new scoring configuration or a full refresh puts every hotel there). The pre-hook
    deletes the scope's rows and the model appends the scope's groups anew, so a hotel whose
    groups are gone keeps no row (delete+insert on hotel_id would keep them). -#}
{{ config(
    materialized='incremental',
    incremental_strategy=('merge' if target.type == 'bigquery' else 'append'),
    on_schema_change='fail',
    pre_hook=(
        "{% if is_incremental() %}delete from {{ this }} where hotel_id in"
        " (select hotel_id from {{ ref('int_hotels_in_scope') }}){% endif %}"
    ),
    cluster_by=bq_cluster_by(['hotel_id']),
) }}

with

scope as (
    select hotel_id from {{ ref('int_hotels_in_scope') }}
),

images as (
    select * from {{ ref('int_images_latest') }}
    where
        is_active
        {%- if is_incremental() %}
        and hotel_id in (select scope.hotel_id from scope)
        {%- endif %}
),

main_images as (
    select * from {{ ref('fct_main_image_snapshot') }}
),

grouped as (
    select
        images.hotel_id,
        images.image_hash,
        images.image_id,
        images.width,
        images.height,
        main_images.image_id is not null as is_current_main_image,
        count(*) over (partition by images.hotel_id, images.image_hash) as group_size
    from images
    left join main_images
        on
            images.hotel_id = main_images.hotel_id
            and images.image_id = main_images.image_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by hotel_id, image_hash
            order by
                case when is_current_main_image then 0 else 1 end,
                width * height desc,
                image_id
        ) as representative_rank
    from grouped
    where group_size > 1
),

final as (
    select
        hotel_id,
        image_hash,
        image_id,
        group_size,
        max(case when representative_rank = 1 then image_id end)
            over (partition by hotel_id, image_hash) as representative_image_id,
        representative_rank = 1 as is_representative,
        is_current_main_image
    from ranked
)

select * from final
