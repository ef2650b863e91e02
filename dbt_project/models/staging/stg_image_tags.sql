{{ config(
    partition_by=bq_partition_by('loaded_at'),
    cluster_by=bq_cluster_by(['file_seq']),
) }}

with

source as (
    {{ new_raw_lines(source('raw', 'image_tags')) }}
),

parsed as {{ cte_materialized() }} (
    {{ select_json_fields('source', 'line', {
        'image_id_json': '$.image_id',
        'tags_json': '$.tags',
    }) }}
),

tag_elements as (
    select
        file_seq,
        line_number,
        {{ json_string(json_get('tag_json', '$.tag')) }} as tag,
        {{ json_string(json_get('tag_json', '$.version')) }} as tag_version,
        {{ json_number(json_get('tag_json', '$.probability')) }} as probability
    from (
        {{ select_json_array_elements(
            'parsed', 'parsed.file_seq, parsed.line_number', 'parsed.tags_json', 'tag_json'
        ) }}
    ) as elements
),

tag_checks as (
    select
        file_seq,
        line_number,
        count(*) as tag_count,
        sum(case when tag is null or tag = '' then 1 else 0 end) as invalid_tags,
        sum(
            case
                when tag_version is null then 1
                when not {{ regex_full_match('tag_version', 'v[0-9]+-[0-9]+-[0-9]+') }} then 1
                else 0
            end
        ) as invalid_versions,
        sum(case when not {{ version_parts_fit('tag_version') }} then 1 else 0 end)
            as out_of_range_versions,
        sum(case when probability is null or probability < 0 or probability > 1 then 1 else 0 end)
            as invalid_probabilities,
        {#- two versions or more when the smallest and the largest differ (count(distinct)
            would make DuckDB compute the elements twice) -#}
        min(tag_version) as tag_version,
        max(tag_version) as max_tag_version
    from tag_elements
    group by file_seq, line_number
),

validated as (
    select
        parsed.*,
        {{ json_integer('parsed.image_id_json') }} as image_id,
        coalesce(tag_checks.tag_count, 0) as tag_count,
        tag_checks.tag_version,
        case
            when parsed.line_encoding = 'hex' then 'invalid_encoding'
            when not parsed.is_json_object then 'invalid_json'
            when
                not coalesce({{ json_integer('parsed.image_id_json') }} >= 1000, false)
                then 'invalid_image_id'
            when not {{ json_is_array('parsed.tags_json') }} then 'invalid_tags'
            when tag_checks.invalid_tags > 0 then 'invalid_tag'
            when tag_checks.invalid_versions > 0 then 'invalid_tag_version'
            when tag_checks.out_of_range_versions > 0 then 'tag_version_out_of_range'
            when tag_checks.invalid_probabilities > 0 then 'invalid_probability'
            when tag_checks.tag_version <> tag_checks.max_tag_version then 'multiple_tag_versions'
        end as rejection_reason
    from parsed
    left join tag_checks
        on
            parsed.file_seq = tag_checks.file_seq
            and parsed.line_number = tag_checks.line_number
),

final as (
    select
        {{ provenance_columns() }},
        image_id,
        tag_version,
        tag_count,
        case when rejection_reason is null and tag_count > 0 then tags_json end as tags_json,
        {{ rejection_columns() }}
    from validated
)

select * from final
