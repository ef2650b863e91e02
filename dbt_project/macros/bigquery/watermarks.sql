{#-
    Incremental watermarks that BigQuery can prune on.

    The incremental models pick their new rows with `file_seq > (<scalar subquery>)`. DuckDB
    evaluates that well. On BigQuery a filter whose value comes from a subquery does not prune
    partitions or clustered blocks: every run would read whole columns of the staged tables
    (and, in staging, the whole raw line text). So on BigQuery the watermark is evaluated first
    (run_query, at execution time) and inlined as a literal, together with a literal lower bound
    on `loaded_at` (the partitioning column of raw and staging tables): the load time of the
    first file after the watermark, from raw.load_manifest (one row per file). Rows with
    file_seq > watermark all have loaded_at >= that bound (a row's loaded_at is its file's), so
    the extra condition selects exactly the same rows, and BigQuery reads only the partitions
    loaded since. When no file of the feeds came after the watermark, the filter is `false`
    (nothing is read).

    `watermark_query` is the SQL of the scalar subquery (DuckDB renders it unchanged);
    `bigquery_watermark_query`, when given, is a standalone query BigQuery evaluates instead
    (for a watermark defined by a CTE of the model); `feeds` are the feeds whose files can hold
    the new rows.
-#}
{% macro file_seq_after(watermark_query, feeds, bigquery_watermark_query=none) -%}
    {{ return(adapter.dispatch('file_seq_after', 'main_image')(
        watermark_query, feeds, bigquery_watermark_query
    )) }}
{%- endmacro %}

{% macro default__file_seq_after(watermark_query, feeds, bigquery_watermark_query=none) -%}
    file_seq > ({{ watermark_query }})
{%- endmacro %}

{% macro bigquery__file_seq_after(watermark_query, feeds, bigquery_watermark_query=none) -%}
    {%- set manifest = source('raw', 'load_manifest') -%}
    {%- if not execute -%}
        file_seq > ({{ bigquery_watermark_query or watermark_query }})
    {%- else -%}
        {%- set watermark = run_query(
            'select coalesce((' ~ (bigquery_watermark_query or watermark_query) ~ '), 0)'
        ).columns[0].values()[0] | int -%}
        {%- set first_new_file_loaded_at = run_query(
            'select unix_micros(min(loaded_at)) from ' ~ manifest
            ~ ' where file_seq > ' ~ watermark
            ~ " and feed in ('" ~ (feeds | join("', '")) ~ "')"
        ).columns[0].values()[0] -%}
        {%- if first_new_file_loaded_at is none -%}
            false /* no file of {{ feeds | join(', ') }} after file_seq {{ watermark }} */
        {%- else -%}
            (file_seq > {{ watermark }} and loaded_at >= timestamp_micros({{ first_new_file_loaded_at | int }}))
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The landing watermark of the last completed attempt, as a standalone query (BigQuery
    evaluates it before the model; int_hotels_in_scope's `settings` CTE holds the same value).
    It reads the source (stg_pipeline_runs is a view of it): a ref() that only some runs
    render (is_incremental) would break dbt's dependency inference. -#}
{% macro completed_run_watermark_query() -%}
    select file_seq_watermark
    from {{ source('raw', 'pipeline_runs') }}
    where selection_completed_at is not null
    order by invocation_seq desc
    limit 1
{%- endmacro %}

{#-
    The highest file_seq of a staging table (`this`) of `feed`, reading only its recent
    partitions. The last completed attempt built every staging model, so the table holds every
    line of the feed's files up to that attempt's landing watermark: the last such file
    (file_seq s0, loaded at t0) bounds the answer from below, and every later file was loaded at
    t0 or later (the loader keeps loaded_at non-decreasing in file_seq). So the maximum is
    found among the rows with file_seq >= s0 (clustered blocks) in the partitions from t0 on;
    s0 when there are none. Without a completed attempt (first runs) the whole file_seq column
    is read.
-#}
{% macro bigquery__staged_file_seq_watermark_query(feed) -%}
    {%- set manifest = source('raw', 'load_manifest') -%}
    {%- set runs = source('raw', 'pipeline_runs') -%}
    {%- set bound = none -%}
    {%- if execute -%}
        {%- set rows = run_query(
            'select file_seq, unix_micros(loaded_at) from ' ~ manifest
            ~ " where feed = '" ~ feed ~ "' and file_seq <= coalesce(("
            ~ 'select file_seq_watermark from ' ~ runs
            ~ ' where selection_completed_at is not null order by invocation_seq desc limit 1'
            ~ '), 0) order by file_seq desc limit 1'
        ).rows -%}
        {%- if rows | length > 0 -%}
            {%- set bound = {'file_seq': rows[0][0] | int, 'loaded_at': rows[0][1] | int} -%}
        {%- endif -%}
    {%- endif -%}
    {%- if bound is none -%}
        select coalesce(max(file_seq), 0) from {{ this }}
    {%- else -%}
        select coalesce(max(file_seq), {{ bound.file_seq }}) from {{ this }}
        where file_seq >= {{ bound.file_seq }} and loaded_at >= timestamp_micros({{ bound.loaded_at }})
    {%- endif -%}
{%- endmacro %}

{#-
    BigQuery version of `new_raw_lines` (macros/utils/staging.sql), for when that macro
    dispatches (`adapter.dispatch('new_raw_lines', 'main_image')`): the raw lines a staging
    model has not seen yet, read from the raw partitions loaded since its watermark only (and
    the watermark itself from the staging table's recent partitions). On a full build every
    partition is read, with an explicit (always true) partition filter so that the raw tables
    may set require_partition_filter.
-#}
{% macro bigquery__new_raw_lines(relation) -%}
    select * from {{ relation }}
    {%- if is_incremental() %}
    where {{ bigquery__file_seq_after(
        bigquery__staged_file_seq_watermark_query(relation.identifier), [relation.identifier]
    ) }}
    {%- else %}
    where loaded_at >= timestamp_micros(0)
    {%- endif %}
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

{% macro bigquery__event_days_to_rebuild(events) -%}
    {{ bq_event_days_to_rebuild(events) }}
{%- endmacro %}
