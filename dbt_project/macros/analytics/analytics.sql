{#- Helpers of the analytics marts (models/reporting/rpt_*: images, searches, rejections). -#}

{#- A search term as analysts count it: surrounding whitespace trimmed, case-folded; null when
    nothing is left. The same on both engines: RE2 on both, lower() folds Unicode letters on
    both (DuckDB's trim() would only strip spaces, BigQuery's every Unicode space). -#}
{% macro normalised_search_term(expr) -%}
    lower({{ regex_first_group(expr, '(?s)^[[:space:]]*(.*?)[[:space:]]*$') }})
{%- endmacro %}

{#- `as_of` of the attempts after the last completed one, from a CTE `runs` of
    stg_pipeline_runs: the days whose records an incremental daily mart keyed by the loading
    run's date recomputes. Those attempts loaded every record after the last completed
    attempt's watermark (a failed attempt's records included); a day is recomputed from all its
    records, so re-running after a failure gives the same rows. -#}
{% macro run_dates_to_rebuild(runs) -%}
    select distinct {{ runs }}.as_of
    from {{ runs }}
    cross join (
        select coalesce(max(invocation_seq), 0) as invocation_seq
        from {{ runs }}
        where selection_completed_at is not null
    ) as last_completed
    where {{ runs }}.invocation_seq > last_completed.invocation_seq
{%- endmacro %}

{#- The records a daily mart keyed by the loading run's date recomputes (those landed by the
    attempts whose date run_dates_to_rebuild returns) carry a `loaded_at` at or after the first
    file those attempts landed (a record's loaded_at is its file's). On BigQuery that bound is
    inlined as a literal, so that only the partitions loaded since are read instead of whole
    columns of the staged tables; `false` when those attempts landed no file of `feeds`. The
    rows are the same: elsewhere the condition is `true`. `runs` is stg_pipeline_runs. -#}
{% macro loaded_by_attempts_of_rebuilt_dates(runs, feeds) -%}
    {{ return(adapter.dispatch('loaded_by_attempts_of_rebuilt_dates', 'main_image')(runs, feeds)) }}
{%- endmacro %}

{% macro default__loaded_by_attempts_of_rebuilt_dates(runs, feeds) -%}
    true
{%- endmacro %}

{% macro bigquery__loaded_by_attempts_of_rebuilt_dates(runs, feeds) -%}
    {%- if not execute -%}
        true
    {%- else -%}
        {%- set first_loaded_at = run_query(
            'with runs as (select * from ' ~ runs ~ '), '
            ~ 'rebuilt_dates as (' ~ run_dates_to_rebuild('runs') ~ ') '
            ~ 'select unix_micros(min(manifest.loaded_at)) from '
            ~ source('raw', 'load_manifest') ~ ' as manifest '
            ~ 'inner join runs on manifest.invocation_seq = runs.invocation_seq '
            ~ 'inner join rebuilt_dates on runs.as_of = rebuilt_dates.as_of '
            ~ "where manifest.feed in ('" ~ (feeds | join("', '")) ~ "')"
        ).columns[0].values()[0] -%}
        {%- if first_loaded_at is none -%}
            false /* the attempts of the dates rebuilt landed no file of {{ feeds | join(', ') }} */
        {%- else -%}
            loaded_at >= timestamp_micros({{ first_loaded_at | int }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- A dimension of a report that may be absent from a record: 'unknown' instead of null, so
    that a key of the report is never null. -#}
{% macro report_dimension(expr) -%}
    coalesce({{ expr }}, 'unknown')
{%- endmacro %}

{#- One row per day from `start_day` to `end_day` (date columns of the relation `bounds`,
    which has one row), as column `day_column`: the spine of a zero-filled daily report. -#}
{% macro day_series(bounds, start_day, end_day, day_column) -%}
    {%- set implementation = adapter.dispatch('day_series', 'main_image') -%}
    {{ return(implementation(bounds, start_day, end_day, day_column)) }}
{%- endmacro %}

{% macro default__day_series(bounds, start_day, end_day, day_column) -%}
    select cast(unnest(generate_series({{ start_day }}, {{ end_day }}, interval 1 day)) as date)
        as {{ day_column }}
    from {{ bounds }}
    where {{ start_day }} is not null
{%- endmacro %}

{% macro bigquery__day_series(bounds, start_day, end_day, day_column) -%}
    select {{ day_column }}
    from {{ bounds }}
    cross join unnest(generate_date_array({{ start_day }}, {{ end_day }})) as {{ day_column }}
    where {{ start_day }} is not null
{%- endmacro %}

{#- true when the JSON text of an optional field holds a value: not absent, not JSON null -#}
{% macro json_is_present(json_text) -%}
    coalesce({{ json_text }} <> 'null', false)
{%- endmacro %}

{#- an optional field is absent, or present and `fits` (its typed value is right) -#}
{% macro optional_field_fits(json_text, fits) -%}
    (not {{ json_is_present(json_text) }} or coalesce({{ fits }}, false))
{%- endmacro %}

{#- a MIME type: type/subtype of RFC 6838 restricted names (e.g. image/jpeg, image/svg+xml) -#}
{% macro mime_type_pattern() -%}
[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*
{%- endmacro %}
