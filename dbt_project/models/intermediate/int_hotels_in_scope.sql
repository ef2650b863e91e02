{#-
    The hotels this run recomputes, with the reason. Incremental by default: hotels whose inputs
    changed since the last completed run (new or re-delivered images, late tags or scores,
    overrides, main_images records, and hotels whose ranking can move with the run date).
    Every hotel when: var full_refresh is true, there is no completed run yet, or the scoring
    configuration (version, pinned tag/obiq versions) differs from the last completed run's.
    Recomputing a hotel is always safe (a change is emitted only when the selection differs from
    the published state), so a failed run simply leaves a larger scope to the next one.
-#}
/* depends_on: {{ ref('stg_user_events') }} */
{%- set as_of = as_of_date() -%}
{#- The change log as it stands before this run (not a ref: it is built from this model), read
    by the unfinished-attempt reason; documented in the yml meta and docs/design.md. -#}
{%- set change_log = adapter.get_relation(
    database=target.database,
    schema=generate_schema_name('marts', none) | trim,
    identifier='fct_main_image_changes',
) if execute else none -%}
{%- set drift_per_day = as_of_score_drift_per_day() -%}
{%- set uses_events = active_scoring_uses_events() -%}
{%- set event_window = scoring_v2_constants().engagement_window_days -%}
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

{#- One macro per reason a hotel enters scope (macros/scope/): each defines the CTEs of its
    reason, ending with the CTE named below in changed_hotels. -#}

{{ scope_every_hotel() }},

{{ scope_new_images() }},

{{ scope_new_tags() }},

{{ scope_new_obiq_scores() }},

{{ scope_new_admin_overrides() }},

{{ scope_new_main_images() }},

{{ scope_new_user_events(uses_events) }},

{{ scope_as_of(as_of, uses_events, event_window, margins, drift_per_day) }},

{{ scope_unfinished_attempts(change_log) }},

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
    select * from hotels_with_new_events
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
