{#- The latest obiq score of every (image, obiq version). -#}
{{ config(
    materialized='incremental',
    unique_key=['image_id', 'obiq_version'],
    incremental_strategy=('merge' if target.type == 'bigquery' else 'delete+insert'),
    cluster_by=bq_cluster_by(['image_id']),
) }}

with

new_records as (
    select * from {{ ref('stg_obiq_scores') }}
    where
        rejection_reason is null
        {%- if is_incremental() %}
        and {{ file_seq_after_completed_run(['obiq_scores']) }}
        {%- endif %}
),

latest_records as (
    select
        *,
        row_number() over (
            partition by image_id, obiq_version
            order by file_seq desc, line_number desc
        ) as recency_rank
    from new_records
),

final as (
    select
        image_id,
        obiq_version,
        obiq_score,
        file_seq,
        line_number
    from latest_records
    where recency_rank = 1
)

select * from final
