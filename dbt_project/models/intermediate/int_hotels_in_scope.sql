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
{#- The change log, read as it stands before this run (not a ref: it is built from this model).
    Hotels changed by attempts that never completed are revisited: their published state may
    come from a configuration or an input that the last completed run did not see. -#}
{%- set change_log = adapter.get_relation(
    database=target.database,
    schema=generate_schema_name('marts', none) | trim,
    identifier='fct_main_image_changes',
) if execute else none -%}
{%- set drift_per_day = as_of_score_drift_per_day() -%}
{%- set margins = selection_margins_relation() if drift_per_day is not none else none -%}

with

last_completed_run as (
    select runs.*
    from {{ ref('stg_pipeline_runs') }} as runs
    where runs.invocation_seq = (
        select max(completed_runs.invocation_seq)
        from {{ ref('stg_pipeline_runs') }} as completed_runs
        where completed_runs.selection_completed_at is not null
    )
),

settings as (
    select
        {% if is_full_refresh_run() -%}
        true
        {%- else -%}
        coalesce(
            (
                select
                    not(
                        scoring_version = '{{ active_scoring_version() }}'
                        and coalesce(tag_version_pin, '')
                        = coalesce({{ optional_string_literal(var('tag_version_pin')) }}, '')
                        and coalesce(obiq_version_pin, '')
                        = coalesce({{ optional_string_literal(var('obiq_version_pin')) }}, '')
                    )
                from last_completed_run
            ),
            true
        )
        {%- endif %} as recompute_all,
        coalesce(
            (select last_completed_run.file_seq_watermark from last_completed_run), 0
        ) as watermark,
        coalesce(
            (select last_completed_run.as_of from last_completed_run), {{ as_of }}
        ) as previous_as_of
),

images as (
    select * from {{ ref('int_images_latest') }}
),

valid_main_images as (
    select * from {{ ref('stg_main_images') }}
    where rejection_reason is null
),

{#- Only one of every_hotel and changed_hotels is used; each filters on recompute_all where it
    reads, so the run does not compute the other (a full run would otherwise join every image
    record with every image record it treats as new). #}

every_hotel as (
    -- every hotel that ever had a valid image record (an image may have moved away since)
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
),

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
    -- the hotels an image belonged to before, in case a record moved it
    select
        earlier_records.hotel_id,
        'images' as scope_reason
    from {{ ref('stg_images') }} as earlier_records
    inner join touched_images
        on earlier_records.image_id = touched_images.image_id
    where earlier_records.rejection_reason is null
),

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
),

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
),

hotels_with_new_overrides as (
    select
        hotel_id,
        'admin_overrides' as scope_reason
    from {{ ref('stg_admin_overrides') }}
    where
        rejection_reason is null
        and not (select settings.recompute_all from settings)
        and {{ file_seq_after(
            'select watermark from settings', ['admin_overrides'], completed_run_watermark_query()
        ) }}
),

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
),

active_images as (
    select
        hotel_id,
        created_date
    from images
    where
        is_active
        and (select settings.previous_as_of from settings) <> {{ as_of }}
        and not (select settings.recompute_all from settings)
),

{#- When only the run date moved, a hotel whose last ranking (by a completed attempt, under
    the same scoring configuration) had its winner ahead by more than the date can move two
    scores apart keeps its main image (int_hotel_selection_margins; 1e-6 absorbs the rounding
    of stored scores). Every other hotel gets the scoring version's rule between the last
    completed run's date and this one. #}
{%- if margins is not none %}
trusted_margins as (
    select
        hotel_id,
        ranked_as_of,
        top_candidates,
        score_margin
    from {{ margins }}
    where
        scoring_version = '{{ active_scoring_version() }}'
        and coalesce(tag_version_pin, '')
        = coalesce({{ optional_string_literal(var('tag_version_pin')) }}, '')
        and coalesce(obiq_version_pin, '')
        = coalesce({{ optional_string_literal(var('obiq_version_pin')) }}, '')
        and invocation_seq
        <= (select coalesce(max(last_completed_run.invocation_seq), 0) from last_completed_run)
),

hotels_near_a_tie as ( -- noqa: ST03
    select hotel_id
    from trusted_margins
    where
        ranked_as_of <> {{ as_of }}
        and top_candidates > 1
        and not coalesce(
            score_margin
            > {{ drift_per_day }} * abs({{ dbt.datediff('ranked_as_of', as_of, 'day') }}) + 1e-6,
            false
        )
),

active_images_without_margin as ( -- noqa: ST03
    select
        active_images.hotel_id,
        active_images.created_date
    from active_images
    left join trusted_margins
        on active_images.hotel_id = trusted_margins.hotel_id
    where trusted_margins.hotel_id is null
),
{%- endif %}

hotels_affected_by_as_of as (
    select
        hotel_id,
        'as_of' as scope_reason
    from (
        {{ hotels_affected_by_as_of_change(
            'active_images' if margins is none else 'active_images_without_margin',
            '(select settings.previous_as_of from settings)',
            as_of,
        ) }}
    ) as affected
    where (select settings.previous_as_of from settings) <> {{ as_of }}
    {%- if margins is not none %}
    union all
    select hotel_id, 'as_of' as scope_reason
    from hotels_near_a_tie
    {%- endif %}
),

hotels_changed_by_unfinished_attempts as (
    {%- if change_log is not none %}
    select hotel_id, 'unfinished_attempt' as scope_reason
    from {{ change_log }}
    where
        invocation_seq
        > coalesce((select max(last_completed_run.invocation_seq) from last_completed_run), 0)
    {%- else %}
    select
        hotel_id,
        'unfinished_attempt' as scope_reason
    from images
    where false
    {%- endif %}
),

changed_hotels as (
    select * from hotels_changed_by_unfinished_attempts
    union all
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
    select * from every_hotel
    where (select settings.recompute_all from settings)
    union all
    select * from changed_hotels
    where not (select settings.recompute_all from settings)
),

final as (
    select
        hotel_id,
        min(scope_reason) as scope_reason
    from scoped
    group by hotel_id
)

select * from final
