{#- Searches per day and normalised search term (trimmed, case-folded): searches and distinct
    users, each event counted once (int_user_events_deduplicated). Incremental like
    rpt_image_engagement_daily: the days that received events since the last completed run are
    recomputed from all their events. -#}
{{ config(
    materialized='incremental',
    incremental_strategy=('insert_overwrite' if target.type == 'bigquery' else 'delete+insert'),
    unique_key=(none if target.type == 'bigquery' else 'search_date'),
    on_schema_change='fail',
    partition_by=bq_partition_by('search_date', 'date'),
    cluster_by=bq_cluster_by(['search_term']),
) }}

with

events as (
    select * from {{ ref('int_user_events_deduplicated') }}
    where
        event_type = 'search'
        {%- if is_incremental() %}
        and {{ event_days_to_rebuild(ref('int_user_events_deduplicated')) }}
        {%- endif %}
),

searches as (
    select
        cast(occurred_at as date) as search_date,
        {{ normalised_search_term('search_term') }} as search_term,
        user_id
    from events
),

final as (
    select
        search_date,
        search_term,
        count(*) as searches,
        count(distinct user_id) as distinct_users
    from searches
    where search_term is not null
    group by search_date, search_term
)

select * from final
