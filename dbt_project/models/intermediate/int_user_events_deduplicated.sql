{#- Valid user events, each event_id once: its first delivery (landing order) counts, a later
    delivery of the same event_id is ignored (contract §2). Append-only: a run adds the events whose
    id it has not seen. -#}
{{ config(
    materialized='incremental',
    incremental_strategy=append_strategy(),
    on_schema_change='fail',
    partition_by=bq_partition_by('occurred_at'),
    cluster_by=bq_cluster_by(['event_type', 'file_seq']),
) }}

with

new_events as (
    select * from {{ ref('stg_user_events') }}
    where
        rejection_reason is null
        {%- if is_incremental() %}
        and {{ file_seq_after_completed_run(['user_events']) }}
        {%- endif %}
),

{# the event ids earlier runs kept: this table (none on a full build) #}
known_events as (
    select event_id
    from {{ this if is_incremental() else 'new_events' }}
    where {{ 'true' if is_incremental() else 'false' }}
),

ranked_deliveries as (
    select
        *,
        row_number() over (
            partition by event_id
            order by file_seq, line_number
        ) as delivery_rank
    from new_events
),

final as (
    select
        ranked_deliveries.event_id,
        ranked_deliveries.event_type,
        ranked_deliveries.occurred_at,
        ranked_deliveries.hotel_id,
        ranked_deliveries.image_id,
        ranked_deliveries.search_term,
        ranked_deliveries.user_id,
        ranked_deliveries.file_seq,
        ranked_deliveries.line_number,
        ranked_deliveries.invocation_seq,
        ranked_deliveries.loaded_at
    from ranked_deliveries
    left join known_events
        on ranked_deliveries.event_id = known_events.event_id
    where
        ranked_deliveries.delivery_rank = 1
        and known_events.event_id is null
)

select * from final
