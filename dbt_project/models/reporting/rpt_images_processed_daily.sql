{#- Image records processed per day (the as_of of the run that loaded them), source, channel
    and MIME type: received, valid, rejected, new images and new images whose content the hotel
    already had (contract §9). Summed over days and sources it is every staged image record.
    Incremental: the days of the attempts since the last completed one are recomputed from all
    their records (delete+insert on DuckDB, insert_overwrite of their partitions on BigQuery). -#}
{{ config(
    materialized='incremental',
    incremental_strategy=('insert_overwrite' if target.type == 'bigquery' else 'delete+insert'),
    unique_key=(none if target.type == 'bigquery' else 'processed_date'),
    on_schema_change='fail',
    partition_by=bq_partition_by('processed_date', 'date'),
    cluster_by=bq_cluster_by(['source', 'channel', 'mime_type']),
) }}

with

records as (
    select * from {{ ref('stg_images') }}
    {%- if is_incremental() %}
    where {{ loaded_by_attempts_of_rebuilt_dates(ref('stg_pipeline_runs'), ['images']) }}
    {%- endif %}
),

runs as (
    select * from {{ ref('stg_pipeline_runs') }}
),

first_seen as (
    select * from {{ ref('int_images_first_seen') }}
    {%- if is_incremental() %}
    where {{ loaded_by_attempts_of_rebuilt_dates(ref('stg_pipeline_runs'), ['images']) }}
    {%- endif %}
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
        records.file_seq,
        records.line_number,
        records.rejection_reason,
        runs.as_of as processed_date,
        {{ report_dimension('records.image_source') }} as source,  -- noqa: RF04
        {{ report_dimension('records.channel') }} as channel,
        {{ report_dimension('lower(records.mime_type)') }} as mime_type
    from records
    inner join runs
        on records.invocation_seq = runs.invocation_seq
    inner join dates_to_rebuild
        on runs.as_of = dates_to_rebuild.as_of
),

classified as (
    select
        dated_records.*,
        first_seen.image_id is not null as is_new_image,
        coalesce(first_seen.is_known_by_content, false) as is_known_by_content
    from dated_records
    left join first_seen
        on
            dated_records.file_seq = first_seen.file_seq
            and dated_records.line_number = first_seen.line_number
),

final as (
    select
        processed_date,
        source,
        channel,
        mime_type,
        count(*) as records_received,
        cast(
            sum(case when rejection_reason is null then 1 else 0 end) as {{ dbt.type_bigint() }}
        ) as records_valid,
        cast(
            sum(case when rejection_reason is not null then 1 else 0 end) as {{ dbt.type_bigint() }}
        ) as records_rejected,
        cast(
            sum(case when is_new_image then 1 else 0 end) as {{ dbt.type_bigint() }}
        ) as new_images,
        cast(
            sum(case when is_known_by_content then 1 else 0 end) as {{ dbt.type_bigint() }}
        ) as images_known_by_content
    from classified
    group by processed_date, source, channel, mime_type
)

select * from final
