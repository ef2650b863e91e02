{#- Reason `obiq_scores`: hotels whose images received obiq scores since the last completed
    run (scoring versions that read them change; the others recompute to the same result). -#}
{% macro scope_new_obiq_scores() %}
scored_images as (
    select distinct image_id
    from {{ ref('stg_obiq_scores') }}
    where
        rejection_reason is null
        and not (select settings.recompute_all from settings)
        and {{ file_seq_after(
            'select watermark from settings', ['obiq_scores'], completed_run_watermark_query()
        ) }}
),

hotels_with_new_scores as (
    select
        images.hotel_id,
        'obiq_scores' as scope_reason
    from images
    inner join scored_images
        on images.image_id = scored_images.image_id
)
{% endmacro %}
