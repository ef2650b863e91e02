{#- The cameras of the current images (latest state, active) that name one: images and hotels
    per camera make and model ('unknown' for the part not delivered), ranked by images (ties:
    make, then model); the image service's stats show the top 10. Rebuilt each run. -#}
with

images as (
    select * from {{ ref('int_images_latest') }}
    where is_active and (camera_make is not null or camera_model is not null)
),

cameras as (
    select
        {{ report_dimension('camera_make') }} as camera_make,
        {{ report_dimension('camera_model') }} as camera_model,
        hotel_id
    from images
),

aggregated as (
    select
        camera_make,
        camera_model,
        count(*) as images,
        count(distinct hotel_id) as hotels
    from cameras
    group by camera_make, camera_model
),

final as (
    select
        row_number() over (
            order by images desc, camera_make asc, camera_model asc
        ) as camera_rank,
        camera_make,
        camera_model,
        images,
        hotels
    from aggregated
)

select * from final
