{#- The candidate images of the hotels in scope (valid, latest state, active), with the inputs of
    scoring: the top tag of the active tag version and the active obiq score. The active version
    is the highest one, or the one pinned by var tag_version_pin / obiq_version_pin. -#}

with

scope as (
    select hotel_id from {{ ref('int_hotels_in_scope') }}
),

candidates as (
    select images.*
    from {{ ref('int_images_latest') }} as images
    inner join scope
        on images.hotel_id = scope.hotel_id
    where images.is_active
),

tag_versions as (
    select tag_versions.*
    from {{ ref('int_image_tag_versions') }} as tag_versions
    inner join candidates
        on tag_versions.image_id = candidates.image_id
),

active_tags as (
    {{ active_version_rows(
        'tag_versions', 'tag_version', ref('int_image_tag_versions'), var('tag_version_pin')
    ) }}
),

obiq_versions as (
    select obiq_versions.*
    from {{ ref('int_obiq_score_versions') }} as obiq_versions
    inner join candidates
        on obiq_versions.image_id = candidates.image_id
),

active_obiq_scores as (
    {{ active_version_rows(
        'obiq_versions', 'obiq_version', ref('int_obiq_score_versions'), var('obiq_version_pin')
    ) }}
),

tag_priorities as (
    select * from {{ ref('tag_priorities') }}
),

final as (
    select
        candidates.hotel_id,
        candidates.image_id,
        candidates.cdn_url,
        candidates.width,
        candidates.height,
        candidates.created_at,
        candidates.created_date,
        active_tags.tag_version,
        active_tags.top_tag,
        active_tags.top_tag_probability,
        case
            when active_tags.top_tag is not null
                then coalesce(tag_priorities.priority, {{ var('default_tag_priority') }})
        end as tag_priority,
        active_obiq_scores.obiq_version,
        active_obiq_scores.obiq_score
    from candidates
    left join active_tags
        on candidates.image_id = active_tags.image_id
    left join active_obiq_scores
        on candidates.image_id = active_obiq_scores.image_id
    left join tag_priorities
        on active_tags.top_tag = tag_priorities.tag
)

select * from final
