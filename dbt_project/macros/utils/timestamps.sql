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
