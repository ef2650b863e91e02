{#- Reason `main_images`: hotels with `main_images` feed records since the last completed run
    (the frontend's current main image changed, so the change to emit may differ). -#}
{% macro scope_new_main_images() %}
hotels_with_new_main_images as (
    select
        hotel_id,
        'main_images' as scope_reason
    from valid_main_images
    where
        not (select settings.recompute_all from settings)
        and {{ file_seq_after(
            'select watermark from settings', ['main_images'], completed_run_watermark_query()
        ) }}
)
{% endmacro %}
