{#-
    Model versions ("v4-0-0", "v1", "2.1") compared as numbers: major, minor, patch.
    `version_number(v, 1)` is the major part, null when `v` is not such a version; order by the
    three parts descending (nulls last), then by the text, to find the highest version.
-#}
{% macro version_number(version, part) -%}
    {%- set bigint_type = api.Column.translate_type('bigint') -%}
    {%- set patterns = {
        1: '^v?([0-9]+)',
        2: '^v?[0-9]+[-.]([0-9]+)',
        3: '^v?[0-9]+[-.][0-9]+[-.]([0-9]+)',
    } -%}
    case
        when {{ regex_full_match(version, 'v?[0-9]+([-.][0-9]+){0,2}') }}
            then coalesce(cast({{ regex_first_group(version, patterns[part]) }} as {{ bigint_type }}), 0)
    end
{%- endmacro %}

{#- an `order by` list that puts the highest version first -#}
{% macro version_order_desc(version) -%}
    coalesce({{ version_number(version, 1) }}, -1) desc,
    coalesce({{ version_number(version, 2) }}, -1) desc,
    coalesce({{ version_number(version, 3) }}, -1) desc,
    {{ version }} desc
{%- endmacro %}
