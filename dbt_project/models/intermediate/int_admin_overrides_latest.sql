{#- The latest admin override of every hotel (by set_at, then landing order). An override with
    a null image clears the hotel's override. Hotels with new override records are recomputed
    from all their records, so a late record with an older set_at does not win. -#}
{{ config(
    materialized='incremental',
    unique_key='hotel_id',
    incremental_strategy=('merge' if target.type == 'bigquery' else 'delete+insert'),
    cluster_by=bq_cluster_by(['hotel_id']),
) }}

with

valid_overrides as (
    select * from {{ ref('stg_admin_overrides') }}
    where rejection_reason is null
),

{% if is_incremental() %}
hotels_with_new_overrides as (
    select distinct hotel_id
    from valid_overrides
    where
        {{ file_seq_after_completed_run(['admin_overrides']) }}
),
{% endif %}

ranked_overrides as (
    select
        valid_overrides.*,
        row_number() over (
            partition by valid_overrides.hotel_id
            order by
                valid_overrides.set_at desc,
                valid_overrides.file_seq desc,
                valid_overrides.line_number desc
        ) as recency_rank,
        max(valid_overrides.file_seq) over (partition by valid_overrides.hotel_id) as last_file_seq
    from valid_overrides
    {% if is_incremental() -%}
    inner join hotels_with_new_overrides
        on valid_overrides.hotel_id = hotels_with_new_overrides.hotel_id
    {%- endif %}
),

final as (
    select
        hotel_id,
        image_id as override_image_id,
        set_by,
        set_at,
        file_seq,
        line_number,
        last_file_seq
    from ranked_overrides
    where recency_rank = 1
)

select * from final
