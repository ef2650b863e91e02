{#-
    The current main image of every hotel that has one: the fold of the main_images feed and the
    change log. Rewritten for the hotels in this run's scope and for hotels with changes from
    attempts that have not completed (so a crash between the change log and this model heals on
    the next run). Rebuildable from scratch at any time with `dbt build --full-refresh`.
-#}
{{ config(
    materialized='incremental',
    unique_key='hotel_id',
    incremental_strategy=('merge' if target.type == 'bigquery' else 'delete+insert'),
    on_schema_change='fail',
    cluster_by=bq_cluster_by(['hotel_id']),
    post_hook=["delete from {{ this }} where image_id is null"],
) }}

with

changes as (
    select * from {{ ref('fct_main_image_changes') }}
),

{# scope and last_completed_run are read by incremental runs only: their refs stay outside the
   is_incremental() branch so that dbt records the dependency when it parses the model #}
scope as ( -- noqa: ST03
    select hotel_id from {{ ref('int_hotels_in_scope') }}
),

pipeline_runs as (
    select * from {{ ref('stg_pipeline_runs') }}
),

main_images as (
    select * from {{ ref('stg_main_images') }}
),

last_completed_run as ( -- noqa: ST03
    select coalesce(max(invocation_seq), 0) as invocation_seq
    from pipeline_runs
    where selection_completed_at is not null
),

hotels_to_refresh as (
    {%- if is_incremental() %}
    select hotel_id from scope
    union all
    select hotel_id from changes
    where
        changes.invocation_seq
        > (select last_completed_run.invocation_seq from last_completed_run)
    {%- else %}
    select hotel_id from main_images
    union all
    select hotel_id from changes
    {%- endif %}
),

hotels as (
    select distinct hotel_id from hotels_to_refresh
),

published as (
    {{ latest_published_main_images('main_images', 'changes', 'hotels') }}
),

final as (
    select
        hotel_id,
        image_id,
        cdn_url,
        selection_source,
        score,
        scoring_version,
        run_id,
        invocation_seq
    from published
    {%- if not is_incremental() %}
    where image_id is not null
    {%- endif %}
)

select * from final
