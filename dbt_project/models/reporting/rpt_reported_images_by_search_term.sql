{#- Reported images per search term: for each image and the normalised term the user had
    searched (null: reported without a search), the reports, distinct reporters, first and last
    report, the image's hotel (its latest state; the event's hotel for an image never staged)
    and whether it is a hotel's current main image. Rebuilt each run: the main images change. -#}
with

events as (
    select * from {{ ref('int_user_events_deduplicated') }}
),

images as (
    select * from {{ ref('int_images_latest') }}
),

main_images as (
    select * from {{ ref('fct_main_image_snapshot') }}
),

reports as (
    select
        image_id,
        hotel_id,
        {{ normalised_search_term('search_term') }} as search_term,
        user_id,
        occurred_at
    from events
    where event_type = 'report'
),

aggregated as (
    select
        image_id,
        search_term,
        max(hotel_id) as event_hotel_id,
        count(*) as reports,
        count(distinct user_id) as distinct_reporters,
        min(occurred_at) as first_reported_at,
        max(occurred_at) as last_reported_at
    from reports
    group by image_id, search_term
),

final as (
    select
        aggregated.image_id,
        aggregated.search_term,
        coalesce(images.hotel_id, aggregated.event_hotel_id) as hotel_id,
        aggregated.reports,
        aggregated.distinct_reporters,
        aggregated.first_reported_at,
        aggregated.last_reported_at,
        main_images.image_id is not null as is_current_main_image
    from aggregated
    left join images
        on aggregated.image_id = images.image_id
    left join main_images
        on
            aggregated.image_id = main_images.image_id
            and coalesce(images.hotel_id, aggregated.event_hotel_id) = main_images.hotel_id
)

select * from final
