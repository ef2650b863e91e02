{#- Reason `full`: every hotel that ever had a valid image record (an image may have moved away
    since) or a main image, when the run recomputes everything (settings.recompute_all). Only
    one of this and the changed-hotel reasons is used; each filters on recompute_all where it
    reads, so the run does not compute the other. -#}
{% macro scope_every_hotel() %}
every_hotel as (
    select distinct
        hotel_id,
        'full' as scope_reason
    from {{ ref('stg_images') }}
    where rejection_reason is null and (select settings.recompute_all from settings)
    union all
    select
        hotel_id,
        'full' as scope_reason
    from valid_main_images
    where (select settings.recompute_all from settings)
)
{% endmacro %}
