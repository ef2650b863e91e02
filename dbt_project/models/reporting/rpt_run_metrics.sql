{#- The metrics of each run (contract §5), one row per run id; the row of the current run is
    rewritten by each of its attempts, so re-running a run keeps one row. A run counts what the
    attempts since the last completed (exported) run landed and emitted, a failed or killed
    attempt's included: summed over the completed runs, no record is missing or counted twice. -#}
{{ config(
    materialized='incremental',
    unique_key='run_id',
    incremental_strategy=('merge' if target.type == 'bigquery' else 'delete+insert'),
    on_schema_change='fail',
) }}

{%- set feeds = [
    'images', 'image_tags', 'obiq_scores', 'main_images', 'admin_overrides', 'user_events',
] %}

{#- The landing watermark of the last exported run before this one (last_completed_run below):
    every file the counted attempts landed came after it (attempts are serialised and file_seq
    grows), so filtering the staged rows on it keeps the same rows, and lets BigQuery read only
    the partitions loaded since instead of whole columns (file_seq_after). -#}
{%- set counted_files_watermark -%}
    select coalesce((
        select file_seq_watermark
        from {{ ref('stg_pipeline_runs') }}
        where
            exported_at is not null
            and run_id != {{ run_id_literal() }}
            and invocation_seq < {{ invocation_seq_literal() }}
        order by invocation_seq desc
        limit 1
    ), 0)
{%- endset %}

with

runs as (
    select * from {{ ref('stg_pipeline_runs') }}
),

last_completed_run as (
    select coalesce(max(invocation_seq), 0) as invocation_seq
    from runs
    where
        exported_at is not null
        and run_id != {{ run_id_literal() }}
        and invocation_seq < {{ invocation_seq_literal() }}
),

counted_attempts as (
    select runs.invocation_seq
    from runs
    cross join last_completed_run
    where
        runs.invocation_seq > last_completed_run.invocation_seq
        and runs.invocation_seq <= {{ invocation_seq_literal() }}
),

images_processed as (
    select count(distinct image_id) as images_processed
    from {{ ref('stg_images') }}
    where
        rejection_reason is null
        and {{ file_seq_after(counted_files_watermark, ['images']) }}
        and invocation_seq in (select counted_attempts.invocation_seq from counted_attempts)
),

hotels_with_images as (
    select count(distinct hotel_id) as hotels_with_images
    from {{ ref('int_images_latest') }}
    where is_active
),

changes as (
    select
        cast(sum(case when change_type = 'new' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as main_images_new,
        cast(sum(case when change_type = 'updated' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as main_images_updated,
        cast(sum(case when change_type = 'deleted' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as main_images_deleted,
        cast(sum(case when selection_source = 'admin' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as main_images_from_overrides
    from {{ ref('fct_main_image_changes') }}
    where invocation_seq in (select counted_attempts.invocation_seq from counted_attempts)
),

rejections as (
    select
    {%- for feed in feeds %}
    cast(sum(case when feed = '{{ feed }}' then 1 else 0 end) as {{ dbt.type_bigint() }})
        as rejected_{{ feed }}{{ "," if not loop.last }}
    {%- endfor %}
    from {{ ref('fct_rejected_records') }}
    where
        {{ file_seq_after(counted_files_watermark, feeds) }}
        and invocation_seq in (select counted_attempts.invocation_seq from counted_attempts)
),

final as (
    select
        {{ run_id_literal() }} as run_id,
        {{ as_of_date() }} as as_of,
        '{{ active_scoring_version() }}' as scoring_version,
        {{ invocation_seq_literal() }} as last_invocation_seq,
        images_processed.images_processed,
        hotels_with_images.hotels_with_images,
        coalesce(changes.main_images_new, 0) as main_images_new,
        coalesce(changes.main_images_updated, 0) as main_images_updated,
        coalesce(changes.main_images_deleted, 0) as main_images_deleted,
        coalesce(changes.main_images_from_overrides, 0) as main_images_from_overrides,
    {%- for feed in feeds %}
    coalesce(rejections.rejected_{{ feed }}, 0) as rejected_{{ feed }}{{ "," if not loop.last }}
    {%- endfor %}
    from images_processed
    cross join hotels_with_images
    cross join changes
    cross join rejections
)

select * from final
