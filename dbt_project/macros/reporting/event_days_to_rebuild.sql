{#- The days of user events that an incremental report rebuilds. -#}

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

{% macro bigquery__event_days_to_rebuild(events) -%}
    {{ bq_event_days_to_rebuild(events) }}
{%- endmacro %}

{#-
    rpt_image_engagement_daily on BigQuery (incremental, insert_overwrite by event_date): the
    days that received events since the last completed attempt, as a literal filter on
    occurred_at (stg_user_events is partitioned by the event's day, so only those days are
    read). Those days are recomputed from all their events: re-running after a failure
    recomputes them again, with the same result. `false` when no event arrived.
-#}
{% macro bq_event_days_to_rebuild(events) -%}
    {%- if not execute -%}
        true
    {%- else -%}
        {%- set days = run_query(
            'select distinct date(occurred_at) as event_day from ' ~ events
            ~ ' where occurred_at is not null and '
            ~ bigquery__file_seq_after(completed_run_watermark_query(), ['user_events'])
            ~ ' order by event_day'
        ).columns[0].values() -%}
        {%- if days | length == 0 -%}
            false /* no new event */
        {%- else -%}
            (
            {%- for day in days %}
                (occurred_at >= timestamp('{{ day }}') and occurred_at < timestamp_add(timestamp('{{ day }}'), interval 1 day)){{ ' or' if not loop.last }}
            {%- endfor %}
            )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
