{#- Reason `admin_overrides`: hotels with override records since the last completed run. -#}
{% macro scope_new_admin_overrides() %}
hotels_with_new_overrides as (
    select
        hotel_id,
        'admin_overrides' as scope_reason
    from {{ ref('stg_admin_overrides') }}
    where
        rejection_reason is null
        and not (select settings.recompute_all from settings)
        and {{ file_seq_after(
            'select watermark from settings', ['admin_overrides'], completed_run_watermark_query()
        ) }}
)
{% endmacro %}
