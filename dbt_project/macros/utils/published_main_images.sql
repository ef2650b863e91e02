{#-
    The published main image of each hotel in `hotels` (a relation with hotel_id): the latest
    event among the frontend's main_images records and the changes the pipeline emitted,
    ordered by the attempt that produced them (invocation_seq), a feed record before the changes
    of the same attempt, then landing order. image_id is null when the latest event removed the
    main image (a "deleted" change or a null main_images value). `changes` may be none (no
    change emitted yet).
-#}
{% macro latest_published_main_images(main_images, changes, hotels) -%}
    select *
    from (
        select
            events.*,
            row_number() over (
                partition by events.hotel_id
                order by events.invocation_seq desc, events.event_kind desc, events.file_seq desc, events.line_number desc
            ) as recency_rank
        from (
            select
                feed.hotel_id,
                feed.image_id,
                feed.cdn_url,
                cast(null as {{ type_double() }}) as score,
                cast(null as {{ api.Column.translate_type('string') }}) as scoring_version,
                'feed' as selection_source,
                feed.run_id,
                feed.invocation_seq,
                0 as event_kind,
                feed.file_seq,
                feed.line_number
            from {{ main_images }} as feed
            inner join {{ hotels }} as feed_hotels
                on feed.hotel_id = feed_hotels.hotel_id
            where feed.rejection_reason is null
            {%- if changes is not none %}
            union all
            select
                changes.hotel_id,
                changes.image_id,
                changes.cdn_url,
                changes.score,
                changes.scoring_version,
                changes.selection_source,
                changes.run_id,
                changes.invocation_seq,
                1 as event_kind,
                0 as file_seq,
                0 as line_number
            from {{ changes }} as changes
            inner join {{ hotels }} as change_hotels
                on changes.hotel_id = change_hotels.hotel_id
            {%- endif %}
        ) as events
    ) as ranked_events
    where recency_rank = 1
{%- endmacro %}
