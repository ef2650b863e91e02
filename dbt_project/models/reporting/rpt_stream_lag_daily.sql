{#- The stream's lag per day, topic and partition, from the drain records: what the drains of
    the day landed, the largest lag a drain found when it started and the lag the day's last
    drain left behind. Joins rpt_run_metrics by day (report_date). Rebuilt each run (one row
    per day and partition: small). -#}
with

drains as (
    select * from {{ ref('stg_stream_drains') }}
    where rejection_reason is null
),

dated as (
    select
        cast(finished_at as date) as report_date,
        topic,
        topic_partition,
        drain_id,
        finished_at,
        messages,
        files,
        landed_bytes,
        coalesce(relanded_files, 0) as relanded_files,
        coalesce(offset_resets, 0) as offset_resets,
        lag_before,
        lag_after,
        row_number() over (
            partition by cast(finished_at as date), topic, topic_partition
            order by finished_at desc, drain_id desc
        ) as recency
    from drains
),

daily as (
    select
        report_date,
        topic,
        topic_partition,
        count(distinct drain_id) as drains,
        sum(messages) as messages,
        sum(files) as files,
        sum(landed_bytes) as landed_bytes,
        sum(relanded_files) as relanded_files,
        sum(offset_resets) as offset_resets,
        max(lag_before) as max_lag_before,
        max(case when recency = 1 then lag_after end) as end_of_day_lag
    from dated
    group by report_date, topic, topic_partition
),

final as (
    select
        report_date,
        topic,
        topic_partition,
        cast(drains as {{ dbt.type_bigint() }}) as drains,
        cast(messages as {{ dbt.type_bigint() }}) as messages,
        cast(files as {{ dbt.type_bigint() }}) as files,
        cast(landed_bytes as {{ dbt.type_bigint() }}) as landed_bytes,
        cast(relanded_files as {{ dbt.type_bigint() }}) as relanded_files,
        cast(offset_resets as {{ dbt.type_bigint() }}) as offset_resets,
        cast(max_lag_before as {{ dbt.type_bigint() }}) as max_lag_before,
        cast(end_of_day_lag as {{ dbt.type_bigint() }}) as end_of_day_lag
    from daily
)

select * from final
