{#-
    Data tests whose cost follows the changes. The tables of staging and intermediate only grow
    or are rewritten for what changed; a data test there configured with
    `where: __changed_since_last_completed_run__` (dbt_project.yml sets it for both folders)
    checks the rows written since the last completed run: rows with a larger invocation_seq
    when the table has one, else rows of files after that run's landing watermark, else every
    row (tables rebuilt each run for the hotels in scope). On BigQuery a table with file_seq
    and loaded_at is filtered on literal bounds of both instead (bigquery__file_seq_after).
    Earlier rows were checked by the runs that wrote them; a failed run leaves its rows to be
    checked again by the next one.
    Any other `where` works as in dbt.
-#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__changed_since_last_completed_run__' in where -%}
        {%- set where = where | replace(
            '__changed_since_last_completed_run__', changed_since_last_completed_run(relation)
        ) -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro changed_since_last_completed_run(relation) -%}
    {%- if not execute -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set found = [] -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == 'raw' and node.name == 'pipeline_runs' -%}
            {%- do found.append(api.Relation.create(
                database=node.database, schema=node.schema, identifier=node.identifier
            )) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set runs = found[0] if found else none -%}
    {#- the columns documented for the tested model or source (no query per test) -#}
    {%- set columns = [] -%}
    {%- for node in graph.nodes.values() | list + graph.sources.values() | list -%}
        {%- if node.resource_type in ('model', 'source')
            and (node.alias or node.identifier or node.name) | lower == relation.identifier | lower -%}
            {%- do columns.extend(node.columns.keys() | map('lower')) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if runs is none -%}
        {{ return('true') }}
    {%- elif target.type == 'bigquery' and 'file_seq' in columns and 'loaded_at' in columns -%}
        {#- the same rows (a row of a file after the watermark was landed by a later attempt, and
            its invocation_seq is that attempt's), as literals BigQuery prunes partitions and
            clustered blocks on: a filter on a subquery would bill the tested columns and
            invocation_seq of every row (whole event tables for each of their tests) -#}
        {{ return(bigquery__file_seq_after(completed_run_watermark_query(), [
            'images', 'image_tags', 'obiq_scores', 'main_images', 'admin_overrides', 'user_events',
            'stream_drains',
        ])) }}
    {%- elif 'invocation_seq' in columns -%}
        {{ return(
            'invocation_seq > (select coalesce(max(invocation_seq), 0) from ' ~ runs
            ~ ' where selection_completed_at is not null)'
        ) }}
    {%- elif 'file_seq' in columns -%}
        {{ return(
            'file_seq > (select coalesce(max(file_seq_watermark), 0) from ' ~ runs
            ~ ' where selection_completed_at is not null)'
        ) }}
    {%- else -%}
        {{ return('true') }}
    {%- endif -%}
{%- endmacro %}
