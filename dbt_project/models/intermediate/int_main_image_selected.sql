{#- The selected main image of every hotel in scope that has a candidate: the admin override
    while its image is a candidate of the hotel, otherwise the automatic rank 1. Hotels in scope
    without any candidate have no row (their main image, if any, is deleted). -#}
with

ranked as (
    select * from {{ ref('int_images_ranked_per_hotel') }}
),

overrides as (
    select * from {{ ref('int_admin_overrides_latest') }}
    where override_image_id is not null
),

automatic_choice as (
    select * from ranked
    where image_rank = 1
),

override_choice as (
    select ranked.*
    from ranked
    inner join overrides
        on
            ranked.hotel_id = overrides.hotel_id
            and ranked.image_id = overrides.override_image_id
),

final as (
    select
        automatic_choice.hotel_id,
        coalesce(override_choice.image_id, automatic_choice.image_id) as image_id,
        coalesce(override_choice.cdn_url, automatic_choice.cdn_url) as cdn_url,
        coalesce(override_choice.score, automatic_choice.score) as score,
        automatic_choice.scoring_version,
        case when override_choice.image_id is not null then 'admin' else 'auto' end
            as selection_source
    from automatic_choice
    left join override_choice
        on automatic_choice.hotel_id = override_choice.hotel_id
)

select * from final
