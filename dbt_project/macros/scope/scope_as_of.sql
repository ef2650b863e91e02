{#- Reason `as_of`: hotels whose ranking can move because the run date moved since the last
    completed run. The scoring version's rule (hotels_affected_by_as_of_change) reads the
    hotels' active images and, for versions that use events, the events whose date lies in the
    engagement window of the last completed run or of this one.

    When only the run date moved, a hotel whose last ranking (by a completed attempt, under the
    same scoring configuration) had its winner ahead by more than the date can move two scores
    apart keeps its main image (`margins`: int_hotel_selection_margins, read without ref, see
    the model's yml; 1e-6 absorbs the rounding of stored scores). Every other hotel gets the
    version's rule between the last completed run's date and this one. -#}
{% macro scope_as_of(as_of, uses_events, event_window, margins, drift_per_day) %}
window_events as ( -- noqa: ST03
    select distinct
        user_events.image_id,
        cast(user_events.occurred_at as date) as event_date
    from {{ ref('stg_user_events') }} as user_events
    where
        {{ 'true' if uses_events else 'false' }}
        and user_events.rejection_reason is null
        and user_events.image_id is not null
        and (select settings.previous_as_of from settings) <> {{ as_of }}
        and not (select settings.recompute_all from settings)
        and cast(user_events.occurred_at as date) >= {{ dbt.dateadd(
            'day', -event_window, 'least((select previous_as_of from settings), ' ~ as_of ~ ')'
        ) }}
        and cast(user_events.occurred_at as date)
        < greatest((select settings.previous_as_of from settings), {{ as_of }})
),

active_images as (
    select
        hotel_id,
        image_id,
        created_date
    from images
    where
        is_active
        and (select settings.previous_as_of from settings) <> {{ as_of }}
        and not (select settings.recompute_all from settings)
),
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
        active_images.image_id,
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
            'window_events',
        ) }}
    ) as affected
    where (select settings.previous_as_of from settings) <> {{ as_of }}
    {%- if margins is not none %}
    union all
    select hotel_id, 'as_of' as scope_reason
    from hotels_near_a_tie
    {%- endif %}
)
{% endmacro %}
