{#- The top tag of every (image, tag model version): from the latest record of that image and
    version, the tag with the highest probability (ties: tag name ascending). Records with an
    empty tags list carry no version and change nothing. -#}
{{ config(
    materialized='incremental',
    unique_key=['image_id', 'tag_version'],
    incremental_strategy=('merge' if target.type == 'bigquery' else 'delete+insert'),
    cluster_by=bq_cluster_by(['image_id']),
) }}

with

new_records as (
    select * from {{ ref('stg_image_tags') }}
    where
        rejection_reason is null
        and tag_count > 0
        {%- if is_incremental() %}
        and {{ file_seq_after_completed_run(['image_tags']) }}
        {%- endif %}
),

latest_records as (
    select *
    from (
        select
            *,
            row_number() over (
                partition by image_id, tag_version
                order by file_seq desc, line_number desc
            ) as recency_rank
        from new_records
    ) as ranked_records
    where recency_rank = 1
),

record_tags as (
    select
        image_id,
        tag_version,
        file_seq,
        line_number,
        {{ json_string(json_get('tag_json', '$.tag')) }} as tag,
        {{ json_number(json_get('tag_json', '$.probability')) }} as probability
    from (
        {{ select_json_array_elements(
            'latest_records',
            'latest_records.image_id, latest_records.tag_version, latest_records.file_seq, latest_records.line_number',
            'latest_records.tags_json',
            'tag_json'
        ) }}
    ) as elements
),

ranked_tags as (
    select
        *,
        row_number() over (
            partition by image_id, tag_version
            order by probability desc, tag asc
        ) as tag_rank
    from record_tags
),

final as (
    select
        image_id,
        tag_version,
        tag as top_tag,
        probability as top_tag_probability,
        file_seq,
        line_number
    from ranked_tags
    where tag_rank = 1
)

select * from final
