{#-
    The hotels this run recomputes, with the reason. Incremental by default: hotels whose inputs
    changed since the last completed run (new or re-delivered images, late tags or scores,
    overrides, main_images records, and hotels whose ranking can move with the run date).
    Every hotel when: var full_refresh is true, there is no completed run yet, or the scoring
    configuration (version, pinned tag/obiq versions) differs from the last completed run's.
    Recomputing a hotel is always safe (a change is emitted only when the selection differs from
    the published state), so a failed run simply leaves a larger scope to the next one.
-#}
{%- set as_of = as_of_date() -%}

with

last_completed_run as (
    select *
    from {{ ref('stg_pipeline_runs') }}
    where selection_completed_at is not null
    qualify row_number() over (order by invocation_seq desc) = 1
),

settings as (
    select
        {% if is_full_refresh_run() -%}
        true
        {%- else -%}
        coalesce(
            (
                select not (
                    scoring_version = '{{ active_scoring_version() }}'
                    and coalesce(tag_version_pin, '') = coalesce({{ optional_string_literal(var('tag_version_pin')) }}, '')
                    and coalesce(obiq_version_pin, '') = coalesce({{ optional_string_literal(var('obiq_version_pin')) }}, '')
                )
                from last_completed_run
            ),
            true
        )
        {%- endif %} as recompute_all,
        coalesce((select file_seq_watermark from last_completed_run), 0) as watermark,
        coalesce((select as_of from last_completed_run), {{ as_of }}) as previous_as_of
),

images as (
    select * from {{ ref('int_images_latest') }}
),

valid_main_images as (
    select * from {{ ref('stg_main_images') }}
    where rejection_reason is null
),

every_hotel as (
    -- every hotel that ever had a valid image record (an image may have moved away since)
    select distinct hotel_id, 'full' as scope_reason
    from {{ ref('stg_images') }}
    where rejection_reason is null
    union all
    select hotel_id, 'full' as scope_reason from valid_main_images
),

new_image_records as (
    select image_id, hotel_id
    from {{ ref('stg_images') }}
    where rejection_reason is null and {{ file_seq_after('select watermark from settings', ['images'], completed_run_watermark_query()) }}
),

hotels_with_new_images as (
    select hotel_id, 'images' as scope_reason from new_image_records
    union all
    -- the hotels an image belonged to before, in case a record moved it
    select earlier_records.hotel_id, 'images' as scope_reason
    from {{ ref('stg_images') }} as earlier_records
    inner join (select distinct image_id from new_image_records) as touched_images
        on earlier_records.image_id = touched_images.image_id
    where earlier_records.rejection_reason is null
),

hotels_with_new_tags as (
    select images.hotel_id, 'tags' as scope_reason
    from images
    inner join (
        select distinct image_id
        from {{ ref('stg_image_tags') }}
        where rejection_reason is null and {{ file_seq_after('select watermark from settings', ['image_tags'], completed_run_watermark_query()) }}
    ) as tagged_images
        on images.image_id = tagged_images.image_id
),

hotels_with_new_scores as (
    select images.hotel_id, 'obiq_scores' as scope_reason
    from images
    inner join (
        select distinct image_id
        from {{ ref('stg_obiq_scores') }}
        where rejection_reason is null and {{ file_seq_after('select watermark from settings', ['obiq_scores'], completed_run_watermark_query()) }}
    ) as scored_images
        on images.image_id = scored_images.image_id
),

hotels_with_new_overrides as (
    select hotel_id, 'admin_overrides' as scope_reason
    from {{ ref('stg_admin_overrides') }}
    where rejection_reason is null and {{ file_seq_after('select watermark from settings', ['admin_overrides'], completed_run_watermark_query()) }}
),

hotels_with_new_main_images as (
    select hotel_id, 'main_images' as scope_reason
    from valid_main_images
    where {{ file_seq_after('select watermark from settings', ['main_images'], completed_run_watermark_query()) }}
),

active_images as (
    select hotel_id, created_date from images where is_active
),

hotels_affected_by_as_of as (
    select hotel_id, 'as_of' as scope_reason
    from (
        {{ hotels_affected_by_as_of_change(
            'active_images',
            '(select previous_as_of from settings)',
            as_of,
        ) }}
    ) as affected
    where (select previous_as_of from settings) <> {{ as_of }}
),

changed_hotels as (
    select * from hotels_with_new_images
    union all
    select * from hotels_with_new_tags
    union all
    select * from hotels_with_new_scores
    union all
    select * from hotels_with_new_overrides
    union all
    select * from hotels_with_new_main_images
    union all
    select * from hotels_affected_by_as_of
),

scoped as (
    select * from every_hotel where (select recompute_all from settings)
    union all
    select * from changed_hotels where not (select recompute_all from settings)
),

final as (
    select
        hotel_id,
        min(scope_reason) as scope_reason
    from scoped
    group by hotel_id
)

select * from final
