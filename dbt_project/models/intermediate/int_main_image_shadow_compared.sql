{#- Shadow scoring: every hotel in scope that has a candidate, with the main image this run
    selected (int_main_image_selected) beside the one the shadow version
    (var shadow_scoring_version) would select, overrides applied the same way: an admin override
    wins while its image is a candidate. Nothing here is published. No row without a shadow
    version. -#}

with

selected as (
    select * from {{ ref('int_main_image_selected') }}
),

shadow_scored as (
    select * from {{ ref('int_images_scored_shadow') }}
),

shadow_ranked as (
    select
        *,
        row_number() over (
            partition by hotel_id
            order by score desc, created_at desc, image_id asc
        ) as image_rank
    from shadow_scored
),

overrides as (
    select * from {{ ref('int_admin_overrides_latest') }}
    where override_image_id is not null
),

shadow_selected as (
    select
        shadow_ranked.hotel_id,
        shadow_ranked.image_id,
        shadow_ranked.cdn_url,
        shadow_ranked.score,
        shadow_ranked.scoring_version
    from shadow_ranked
    left join overrides
        on shadow_ranked.hotel_id = overrides.hotel_id
    where true
    qualify row_number() over (
        partition by shadow_ranked.hotel_id
        order by
            case when shadow_ranked.image_id = overrides.override_image_id then 0 else 1 end,
            shadow_ranked.image_rank
    ) = 1
),

final as (
    select
        selected.hotel_id,
        selected.scoring_version,
        shadow_selected.scoring_version as shadow_scoring_version,
        selected.selection_source,
        selected.image_id as active_image_id,
        selected.cdn_url as active_cdn_url,
        selected.score as active_score,
        shadow_selected.image_id as shadow_image_id,
        shadow_selected.cdn_url as shadow_cdn_url,
        shadow_selected.score as shadow_score,
        (
            selected.image_id <> shadow_selected.image_id
            or selected.cdn_url <> shadow_selected.cdn_url
        ) as main_image_changes
    from selected
    inner join shadow_selected
        on selected.hotel_id = shadow_selected.hotel_id
)

select * from final
