{#- The user events of every candidate image in the engagement window [as_of - window, as_of)
    (scoring_v2_constants): impressions, clicks and the distinct users who reported it. An event
    delivered twice counts once (its first delivery). Read by the versions that use events, and
    empty when no version of the run does (run_scoring_uses_events): no event is read then. -#}
{%- set window = scoring_v2_constants().engagement_window_days -%}

with

candidates as (
    select image_id from {{ ref('int_image_candidates') }}
),

events as (
    select * from {{ ref('stg_user_events') }}
    where
        {{ 'true' if run_scoring_uses_events() else 'false' }}
        and rejection_reason is null
        and image_id is not null
        and cast(occurred_at as date) >= {{ dbt.dateadd('day', -window, as_of_date()) }}
        and cast(occurred_at as date) < {{ as_of_date() }}
),

candidate_events as (
    select
        events.event_id,
        events.event_type,
        events.image_id,
        events.user_id
    from events
    inner join candidates
        on events.image_id = candidates.image_id
    where true
    qualify row_number() over (
        partition by events.event_id order by events.file_seq, events.line_number
    ) = 1
),

final as (
    select
        image_id,
        cast(sum(case when event_type = 'impression' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as impressions,
        cast(sum(case when event_type = 'click' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as clicks,
        count(distinct case when event_type = 'report' then user_id end) as reporting_users
    from candidate_events
    group by image_id
)

select * from final
