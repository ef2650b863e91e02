{#- The raw lines a staging model has not seen yet (all of them on a full build). -#}
{% macro new_raw_lines(relation) -%}
    {{ return(adapter.dispatch('new_raw_lines', 'main_image')(relation)) }}
{%- endmacro %}

{% macro default__new_raw_lines(relation) -%}
    select * from {{ relation }}
    {%- if is_incremental() %}
    where file_seq > (select coalesce(max(file_seq), 0) from {{ this }})
    {%- endif %}
{%- endmacro %}

{#-
    BigQuery version of `new_raw_lines`, for when that macro
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
        bq_staged_file_seq_watermark_query(relation.identifier), [relation.identifier]
    ) }}
    {%- else %}
    where loaded_at >= timestamp_micros(0)
    {%- endif %}
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
{% macro bq_staged_file_seq_watermark_query(feed) -%}
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
