{#- Reason `images`: hotels with image records landed since the last completed run, and the
    hotels those images belonged to before (a record may move an image to another hotel). -#}
{% macro scope_new_images() %}
new_image_records as (
    select
        image_id,
        hotel_id
    from {{ ref('stg_images') }}
    where
        rejection_reason is null
        and not (select settings.recompute_all from settings)
        and {{ file_seq_after(
            'select watermark from settings', ['images'], completed_run_watermark_query()
        ) }}
),

touched_images as (
    select distinct image_id from new_image_records
),

hotels_with_new_images as (
    select
        hotel_id,
        'images' as scope_reason
    from new_image_records
    union all
    select
        earlier_records.hotel_id,
        'images' as scope_reason
    from {{ ref('stg_images') }} as earlier_records
    inner join touched_images
        on earlier_records.image_id = touched_images.image_id
    where earlier_records.rejection_reason is null
)
{% endmacro %}
