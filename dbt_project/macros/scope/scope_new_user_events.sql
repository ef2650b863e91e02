{#- Reason `user_events`, for scoring versions that use events (v2): hotels whose images
    received events since the last completed run, whatever the events' dates (a late event can
    fall in the engagement window). `uses_events` false compiles to an empty reason. -#}
{% macro scope_new_user_events(uses_events) %}
images_with_new_events as (
    select distinct user_events.image_id
    from {{ ref('stg_user_events') }} as user_events
    where
        {{ 'true' if uses_events else 'false' }}
        and user_events.rejection_reason is null
        and user_events.image_id is not null
        and not (select settings.recompute_all from settings)
        and {{ file_seq_after(
            'select watermark from settings', ['user_events'], completed_run_watermark_query()
        ) }}
),

hotels_with_new_events as (
    select
        images.hotel_id,
        'user_events' as scope_reason
    from images
    inner join images_with_new_events
        on images.image_id = images_with_new_events.image_id
)
{% endmacro %}
