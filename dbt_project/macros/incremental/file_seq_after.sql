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

{#- The rows of `feeds` landed after the last completed attempt: the incremental filter of the
    models whose merge or anti-join makes re-reading a file harmless (the same rows again).
    Cheaper than the model's own `max(file_seq)`: on BigQuery that is a scan of a whole column
    of the state table on every run (the registry is a few rows), and both engines select the
    same rows after a completed attempt. After an attempt that died inside dbt they re-read the
    files it landed, which the property tests' crashes exercise. Not for an append without an
    anti-join (fct_rejected_records), where a re-read file would be appended twice. -#}
{% macro file_seq_after_completed_run(feeds) -%}
    {{ file_seq_after('select coalesce((' ~ completed_run_watermark_query() ~ '), 0)', feeds) }}
{%- endmacro %}
