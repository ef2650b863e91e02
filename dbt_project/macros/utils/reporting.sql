{#- rpt_image_engagement_daily's incremental filter on its events: the days that received events
    since the last completed attempt, which are recomputed from all their events (re-running
    after a failure recomputes them again, with the same result). The model replaces those days:
    delete+insert on event_date on DuckDB, insert_overwrite of their partitions on BigQuery. -#}
{% macro event_days_to_rebuild(events) -%}
    {{ return(adapter.dispatch('event_days_to_rebuild', 'main_image')(events)) }}
{%- endmacro %}

{% macro default__event_days_to_rebuild(events) -%}
    cast(occurred_at as date) in (
        select distinct cast(occurred_at as date)
        from {{ events }}
        where
            occurred_at is not null
            and file_seq > coalesce(({{ completed_run_watermark_query() }}), 0)
    )
{%- endmacro %}
