{#- Usage statistics for analysts: impressions, clicks and reports per image and day, each
    event once (int_user_events_deduplicated; searches carry no image). -#}
{#- Incremental: the days that received events since the last completed run are recomputed from
    all their events and replace those days (BigQuery: insert_overwrite of those date
    partitions; DuckDB: delete+insert on event_date). -#}
{{ config(
    materialized='incremental',
    incremental_strategy=('insert_overwrite' if target.type == 'bigquery' else 'delete+insert'),
    unique_key=(none if target.type == 'bigquery' else 'event_date'),
    partition_by=bq_partition_by('event_date', 'date'),
    cluster_by=bq_cluster_by(['hotel_id', 'image_id']),
) }}

with

events as (
    select * from {{ ref('int_user_events_deduplicated') }}
    where
        image_id is not null
        {%- if is_incremental() %}
        and {{ event_days_to_rebuild(ref('int_user_events_deduplicated')) }}
        {%- endif %}
),

final as (
    select
        cast(occurred_at as date) as event_date,
        hotel_id,
        image_id,
        cast(sum(case when event_type = 'impression' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as impressions,
        cast(sum(case when event_type = 'click' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as clicks,
        cast(sum(case when event_type = 'report' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as reports,
        count(distinct user_id) as distinct_users
    from events
    group by cast(occurred_at as date), hotel_id, image_id
)

select * from final
