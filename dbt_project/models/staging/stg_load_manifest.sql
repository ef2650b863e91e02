{{ config(materialized='view') }}

with

source as (
    select * from {{ source('raw', 'load_manifest') }}
),

final as (
    select
        file_seq,
        feed,
        file_name,
        content_sha256,
        line_count,
        byte_count,
        run_id,
        invocation_seq,
        loaded_at
    from source
)

select * from final
