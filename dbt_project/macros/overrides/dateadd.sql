{#-
    Override of dbt-bigquery 1.11.3's `bigquery__dateadd` (dbt.dateadd; upstream in
    dbt/include/bigquery/macros/utils/dateadd.sql), for sub-day date parts only.

    dbt-bigquery computes every dateadd as DATETIME_ADD(CAST(x AS DATETIME), ...), which returns
    a DATETIME. parse_iso_timestamp (macros/utils/timestamps.sql) shifts a UTC offset with
    dbt.dateadd('minute', ...) in one branch of a CASE whose other branch is a TIMESTAMP, and
    BigQuery has no common supertype of TIMESTAMP and DATETIME. For hour/minute/second parts the
    value is a point in time, so TIMESTAMP_ADD on a TIMESTAMP is the natural result (and what
    DuckDB returns for a timestamp input). Day and coarser parts keep dbt-bigquery's DATETIME
    semantics unchanged (score_v1 compares them with DATE values, which coerce to DATETIME).
-#}
{% macro bigquery__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- if datepart | lower in ['hour', 'minute', 'second', 'millisecond', 'microsecond'] -%}
        timestamp_add(cast({{ from_date_or_timestamp }} as timestamp), interval ({{ interval }}) {{ datepart }})
    {%- else -%}
        datetime_add(cast({{ from_date_or_timestamp }} as datetime), interval ({{ interval }}) {{ datepart }})
    {%- endif -%}
{%- endmacro %}
