{#-
    ISO-8601 dates and timestamps, as the feeds deliver them:
    2024-07-03, 2024-07-03T10:00, 2024-07-03T10:00:00, 2024-07-03 10:00:00.123,
    2024-07-03T10:00:00Z, 2024-07-03T10:00:00+02:00. Anything else is invalid.
-#}
{% macro iso_timestamp_pattern() -%}
[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?(Z|[-+][0-9]{2}:?[0-9]{2})?)?
{%- endmacro %}

{#- The UTC timestamp of an ISO date/timestamp string; null when it is not one, or not a real
    calendar date. UTC offsets are applied here, so both engines agree without time-zone data. -#}
{% macro parse_iso_timestamp(text) -%}
    {%- set timestamp_type = api.Column.translate_type('timestamp') -%}
    {%- set time_part = regex_first_group(text, '^.{10}[T ]([0-9:.]+)') -%}
    case
        when not {{ regex_full_match(text, iso_timestamp_pattern()) }} then null
        {#- year 0 exists on DuckDB only; an offset's minutes beyond 59, or the offset beyond
            +-18:00, is no offset (never folded into the time: the value would change) #}
        when substr({{ text }}, 1, 4) = '0000' then null
        when {{ regex_full_match(text, '.{10}[T ][0-9:.]+[-+][0-9]{2}:?[6-9][0-9]') }} then null
        when abs({{ iso_offset_minutes(text) }}) > 1080 then null
        {#- a UTC time shifted out of the years 1 to 9999 would fail the run on BigQuery #}
        when
            substr({{ text }}, 1, 4) in ('0001', '9999') and {{ iso_offset_minutes(text) }} <> 0
            then null
        when length({{ text }}) = 10 then {{ safe_cast_to(text, timestamp_type) }}
        else {{ dbt.dateadd(
            'minute',
            '-1 * ' ~ iso_offset_minutes(text),
            safe_cast_to(
                'substr(' ~ text ~ ', 1, 10) || \' \' || ' ~ time_part
                ~ ' || case when length(' ~ time_part ~ ') = 5 then \':00\' else \'\' end',
                timestamp_type,
            ),
        ) }}
    end
{%- endmacro %}

{#- minutes east of UTC of a trailing "+hh:mm" / "-hhmm" offset; 0 for "Z" or no offset -#}
{% macro iso_offset_minutes(text) -%}
    {%- set bigint_type = api.Column.translate_type('bigint') -%}
    coalesce(
        case {{ regex_first_group(text, '[T ][0-9:.]+([-+])[0-9]{2}:?[0-9]{2}$') }} when '-' then -1 else 1 end
        * (
            cast({{ regex_first_group(text, '[T ][0-9:.]+[-+]([0-9]{2}):?[0-9]{2}$') }} as {{ bigint_type }}) * 60
            + cast({{ regex_first_group(text, '[T ][0-9:.]+[-+][0-9]{2}:?([0-9]{2})$') }} as {{ bigint_type }})
        ),
        0
    )
{%- endmacro %}
