{#- Reason `tags`: hotels whose images received tag records since the last completed run (late
    tags move the top tag, so the score). -#}
{% macro scope_new_tags() %}
tagged_images as (
    select distinct image_id
    from {{ ref('stg_image_tags') }}
    where
        rejection_reason is null
        and not (select settings.recompute_all from settings)
        and {{ file_seq_after(
            'select watermark from settings', ['image_tags'], completed_run_watermark_query()
        ) }}
),

hotels_with_new_tags as (
    select
        images.hotel_id,
        'tags' as scope_reason
    from images
    inner join tagged_images
        on images.image_id = tagged_images.image_id
)
{% endmacro %}
