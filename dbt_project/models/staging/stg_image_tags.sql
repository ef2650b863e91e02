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
    }, repeated_keys=['tag', 'version', 'probability']) }}
),

tag_elements as (
    select
        file_seq,
        line_number,
        {{ json_string('tag_text') }} as tag,
        {{ json_string('version_text') }} as tag_version,
        {{ json_number('probability_text') }} as probability,
        {#- DuckDB: an element whose keys are not exactly its known keys once may repeat one
            (the line's count cannot tell: the known keys repeat across elements) #}
        key_tokens <> (
            case when tag_text is null then 0 else 1 end
            + case when version_text is null then 0 else 1 end
            + case when probability_text is null then 0 else 1 end
        ) as may_repeat_a_key
    from (
        select
            file_seq,
            line_number,
            {{ json_get('tag_json', '$.tag') }} as tag_text,
            {{ json_get('tag_json', '$.version') }} as version_text,
            {{ json_get('tag_json', '$.probability') }} as probability_text,
            {{ json_key_tokens('tag_json') }} as key_tokens
        from (
            {{ select_json_array_elements(
                'parsed', 'parsed.file_seq, parsed.line_number', 'parsed.tags_json', 'tag_json'
            ) }}
        ) as elements
    ) as element_texts
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
        max(tag_version) as max_tag_version,
        sum(case when may_repeat_a_key then 1 else 0 end) as elements_that_may_repeat_a_key
    from tag_elements
    group by file_seq, line_number
),

duplicate_keys as (
    {{ duplicate_key_lines(
        'parsed',
        'is_json_object and (json_key_tokens <> json_known_keys or exists (select 1 from tag_checks'
        ~ ' where tag_checks.file_seq = parsed.file_seq and tag_checks.line_number = parsed.line_number'
        ~ ' and tag_checks.elements_that_may_repeat_a_key > 0))'
    ) }}
),

validated as (
    select
        parsed.*,
        {{ json_integer('parsed.image_id_json') }} as image_id,
        coalesce(tag_checks.tag_count, 0) as tag_count,
        tag_checks.tag_version,
        case
            when parsed.line_defect = 'invalid_encoding' then 'invalid_encoding'
            when not parsed.is_json_object then 'invalid_json'
            when duplicate_keys.line_number is not null then 'duplicate_key'
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
    left join duplicate_keys
        on
            parsed.file_seq = duplicate_keys.file_seq
            and parsed.line_number = duplicate_keys.line_number
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
