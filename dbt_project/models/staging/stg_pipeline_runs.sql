{{ config(materialized='view') }}

with

source as (
    select * from {{ source('raw', 'pipeline_runs') }}
),

final as (
    select
        invocation_seq,
        run_id,
        as_of,
        scoring_version,
        tag_version_pin,
        obiq_version_pin,
        full_refresh,
        file_seq_watermark,
        started_at,
        selection_completed_at,
        exported_at
    from source
)

select * from final
