{#- Every input line that broke a rule of its feed, with the reason and the original text.
    Append-only; with the staged valid records it accounts for every input line. -#}
{{ config(
    materialized='incremental',
    incremental_strategy=append_strategy(),
    on_schema_change='fail',
    partition_by=bq_partition_by('loaded_at'),
    cluster_by=bq_cluster_by(['feed', 'file_seq']),
) }}

{%- set feeds = [
    'images', 'image_tags', 'obiq_scores', 'main_images', 'admin_overrides', 'user_events',
] %}

with

{% for feed in feeds %}
rejected_{{ feed }} as (
    select
        '{{ feed }}' as feed,
        {{ provenance_columns() }},
        rejection_reason,
        rejected_line as line
    from {{ ref('stg_' ~ feed) }}
    where
        rejection_reason is not null
        {%- if is_incremental() %}
        and {{ file_seq_after(
            "select coalesce(max(file_seq), 0) from " ~ this ~ " where feed = '" ~ feed ~ "'",
            [feed],
        ) }}
        {%- endif %}
),
{% endfor %}

unioned as (
    {%- for feed in feeds %}
    select * from rejected_{{ feed }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        {{ surrogate_key(['feed', 'file_seq', 'line_number']) }} as rejected_record_id,
        feed,
        file_name,
        file_seq,
        line_number,
        rejection_reason,
        line,
        run_id,
        invocation_seq,
        loaded_at
    from unioned
)

select * from final
