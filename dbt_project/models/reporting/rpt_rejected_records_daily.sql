{#- Rejected input lines per day (the as_of of the run that loaded them), feed, source and
    reason: a customer who sends broken files is visible here. The source is known for image
    records whose `source` field could be read; every other line counts under 'unknown'.
    Incremental like rpt_images_processed_daily: the days of the attempts since the last
    completed one are recomputed. -#}
{{ config(
    materialized='incremental',
    incremental_strategy=('insert_overwrite' if target.type == 'bigquery' else 'delete+insert'),
    unique_key=(none if target.type == 'bigquery' else 'report_date'),
    on_schema_change='fail',
    partition_by=bq_partition_by('report_date', 'date'),
    cluster_by=bq_cluster_by(['feed', 'source', 'rejection_reason']),
) }}

{%- set feeds = [
    'images', 'image_tags', 'obiq_scores', 'main_images', 'admin_overrides', 'user_events',
] %}

with

rejected_records as (
    select * from {{ ref('fct_rejected_records') }}
    {%- if is_incremental() %}
    where {{ loaded_by_attempts_of_rebuilt_dates(ref('stg_pipeline_runs'), feeds) }}
    {%- endif %}
),

image_records as (
    select * from {{ ref('stg_images') }}
    {%- if is_incremental() %}
    where {{ loaded_by_attempts_of_rebuilt_dates(ref('stg_pipeline_runs'), ['images']) }}
    {%- endif %}
),

runs as (
    select * from {{ ref('stg_pipeline_runs') }}
),

rejected_image_sources as (
    select
        file_seq,
        line_number,
        image_source
    from image_records
    where rejection_reason is not null
),

{# the run dates to recompute (every date on a full build) #}
dates_to_rebuild as (
    {%- if is_incremental() %}
    {{ run_dates_to_rebuild('runs') }}
    {%- else %}
    select distinct as_of from runs
    {%- endif %}
),

dated_records as (
    select
        runs.as_of as report_date,
        rejected_records.feed,
        {{ report_dimension('rejected_image_sources.image_source') }} as source,  -- noqa: RF04
        rejected_records.rejection_reason,
        rejected_records.file_name
    from rejected_records
    inner join runs
        on rejected_records.invocation_seq = runs.invocation_seq
    inner join dates_to_rebuild
        on runs.as_of = dates_to_rebuild.as_of
    left join rejected_image_sources
        on
            rejected_records.feed = 'images'
            and rejected_records.file_seq = rejected_image_sources.file_seq
            and rejected_records.line_number = rejected_image_sources.line_number
),

final as (
    select
        report_date,
        feed,
        source,
        rejection_reason,
        count(*) as rejected_records,
        count(distinct file_name) as files
    from dated_records
    group by report_date, feed, source, rejection_reason
)

select * from final
