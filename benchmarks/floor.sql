-- The floor: one hand-written DuckDB query over the landing files of a delivery that computes
-- the winners the pipeline's full run selects (scoring v1, no admin overrides in delivery 1).
-- bench.py fills in {{ images }}, {{ image_tags }} (lists of files in landing order) and
-- {{ as_of }}, runs it with the pipeline's DuckDB limits, and checks that the result equals the
-- full run's snapshot. Same rules as staging, same score expression (contract §2-3); it skips what
-- the winners do not need (raw layer, rejected records, obiq scores, events, CDC).
with

image_lines as (
    select
        row_number() over () as landing_order,
        *
    from read_json({{ images }},
        format = 'newline_delimited', ignore_errors = true,
        columns = {
            hotel_id: 'JSON', image_id: 'JSON', cdn_url: 'JSON', width: 'JSON', height: 'JSON',
            created_at: 'JSON', is_active: 'JSON', hash: 'JSON'
        })
),

typed_images as (
    select
        landing_order,
        case when json_type(hotel_id) in ('UBIGINT', 'BIGINT') then hotel_id::bigint end as hotel_id,
        case when json_type(image_id) in ('UBIGINT', 'BIGINT') then image_id::bigint end as image_id,
        case when json_type(cdn_url) = 'VARCHAR' then cdn_url ->> '$' end as cdn_url,
        case when json_type(width) in ('UBIGINT', 'BIGINT') then width::bigint end as width,
        case when json_type(height) in ('UBIGINT', 'BIGINT') then height::bigint end as height,
        case when json_type(created_at) = 'VARCHAR' then created_at ->> '$' end as created_at_text,
        case when json_type(is_active) = 'BOOLEAN' then is_active::boolean end as is_active,
        case when json_type(hash) = 'VARCHAR' then hash ->> '$' end as image_hash
    from image_lines
),

valid_images as (
    select
        *,
        -- ISO date or timestamp (an offset is applied), as UTC
        try_cast(try_cast(created_at_text as timestamptz) as timestamp) as created_at
    from typed_images
    where
        hotel_id >= 1
        and image_id >= 1000
        and regexp_full_match(cdn_url, 'https?://[^/ ?#]+([/?#][^ ]*)?')
        and width >= 0
        and height >= 0
        and regexp_full_match(created_at_text,
            '[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?(Z|[-+][0-9]{2}:?[0-9]{2})?)?')
        and is_active is not null
        and regexp_full_match(image_hash, '[0-9a-f]{16}')
),

latest_images as (
    select unnest(arg_max(valid_images, landing_order))
    from valid_images
    where created_at is not null
    group by image_id
),

candidates as (
    select * from latest_images where is_active
),

tag_records as (
    select
        row_number() over () as landing_order,
        case when json_type(image_id) in ('UBIGINT', 'BIGINT') then image_id::bigint end as image_id,
        tags
    from read_json({{ image_tags }},
        format = 'newline_delimited', ignore_errors = true,
        columns = {
            image_id: 'JSON',
            tags: 'STRUCT(tag VARCHAR, version VARCHAR, probability DOUBLE)[]'
        })
),

valid_tag_records as (
    select landing_order, image_id, tags, tags[1].version as tag_version
    from tag_records
    where
        image_id >= 1000
        and len(tags) > 0
        and list_bool_and(list_transform(tags, lambda t:
            coalesce(t.tag <> '', false)
            and coalesce(regexp_full_match(t.version, 'v[0-9]+-[0-9]+-[0-9]+'), false)
            and coalesce(t.probability between 0 and 1, false)))
        and len(list_distinct(list_transform(tags, lambda t: t.version))) = 1
),

latest_tag_records as (
    select image_id, tag_version, arg_max(tags, landing_order) as tags
    from valid_tag_records
    group by image_id, tag_version
),

active_tag_records as (
    select
        image_id,
        arg_max(tags, [
            regexp_extract(tag_version, '^v([0-9]+)', 1)::bigint,
            regexp_extract(tag_version, '^v[0-9]+-([0-9]+)', 1)::bigint,
            regexp_extract(tag_version, '^v[0-9]+-[0-9]+-([0-9]+)', 1)::bigint
        ]) as tags
    from latest_tag_records
    group by image_id
),

top_tags as (
    select
        image_id,
        -- highest probability, ties by tag name ascending
        (list_sort(list_transform(tags, lambda t: {'p': -t.probability, 'tag': t.tag})))[1].tag as top_tag
    from active_tag_records
),

tag_priorities as (
    select * from read_csv('dbt_project/seeds/tag_priorities.csv', header = true,
        columns = {tag: 'VARCHAR', priority: 'DOUBLE'})
),

scored as (
    select
        candidates.hotel_id,
        candidates.image_id,
        candidates.cdn_url,
        candidates.created_at,
        (
            6 * case
                when (cast(width as double) * height) <= 0 then 0
                else least(1, (ln(greatest((cast(width as double) * height), 1)) - ln(160000)) / (ln(2073600) - ln(160000)))
            end
            + 2 * case
                when height = 0 then 0
                when cast(width as double) / height between 0.3 and 4.65 then 1
                else 0
            end
            + 2 * greatest(0, least(1, 1 - date_diff('day', cast(created_at as date), date '{{ as_of }}') / 3650.0))
            + 3 * coalesce(case when top_tags.top_tag is not null then coalesce(tag_priorities.priority, 0.25) end, 0)
        ) / 13.0 as score
    from candidates
    left join top_tags on candidates.image_id = top_tags.image_id
    left join tag_priorities on top_tags.top_tag = tag_priorities.tag
)

select hotel_id, image_id, cdn_url
from scored
qualify row_number() over (partition by hotel_id order by score desc, created_at desc, image_id asc) = 1
order by hotel_id
