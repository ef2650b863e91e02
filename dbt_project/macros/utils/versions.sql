{#-
    Model versions ("v4-0-0", "v1", "2.1") compared as numbers: major, minor, patch.
    `version_number(v, 1)` is the major part, null when `v` is not such a version; the highest
    version has the largest parts (nulls last), then the largest text (active_version_rows).
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
            then coalesce({{ safe_cast_to(regex_first_group(version, patterns[part]), bigint_type) }}, 0)
    end
{%- endmacro %}

{#- false when `version` is a numeric version (see version_number) with a part beyond 64 bits:
    such a record is rejected (a part that does not fit is never compared as another number) -#}
{% macro version_parts_fit(version) -%}
    {%- set bigint_type = api.Column.translate_type('bigint') -%}
    coalesce(
        not {{ regex_full_match(version, 'v?[0-9]+([-.][0-9]+){0,2}') }}
        or {{ regex_full_match(version, 'v?0*[0-9]{1,18}([-.]0*[0-9]{1,18}){0,2}') }}
        or (
            {{ safe_cast_to(regex_first_group(version, '^v?([0-9]+)'), bigint_type) }} is not null
            and {{ safe_cast_to(
                'coalesce(' ~ regex_first_group(version, '^v?[0-9]+[-.]([0-9]+)') ~ ", '0')",
                bigint_type,
            ) }} is not null
            and {{ safe_cast_to(
                'coalesce(' ~ regex_first_group(version, '^v?[0-9]+[-.][0-9]+[-.]([0-9]+)')
                ~ ", '0')",
                bigint_type,
            ) }} is not null
        ),
        true
    )
{%- endmacro %}

{#- The rows of `relation` (the name of a CTE with columns image_id and `version_column`) that
    carry each image's active version: the pinned `pin` when set, else the image's highest
    version (major, minor, patch descending, a version that is not one last, then the text
    descending). `versions` is a relation holding every version that can occur: the numeric
    parts are computed once per distinct version (a handful), not once per row. -#}
{% macro active_version_rows(relation, version_column, versions, pin) -%}
    {%- if pin is none or pin | string | lower in ['', 'none', 'null'] %}
    select {{ relation }}.*
    from {{ relation }}
    left join (
        select
            {{ version_column }} as version_text,
            {{ version_number(version_column, 1) }} as major,
            {{ version_number(version_column, 2) }} as minor,
            {{ version_number(version_column, 3) }} as patch
        from (select distinct {{ version_column }} from {{ versions }}) as distinct_versions
    ) as version_parts
        on {{ relation }}.{{ version_column }} = version_parts.version_text
    where true
    qualify row_number() over (
        partition by {{ relation }}.image_id
        order by
            coalesce(version_parts.major, -1) desc,
            coalesce(version_parts.minor, -1) desc,
            coalesce(version_parts.patch, -1) desc,
            {{ relation }}.{{ version_column }} desc
    ) = 1
    {%- else %}
    select *
    from {{ relation }}
    where {{ version_column }} = {{ optional_string_literal(pin) }}
    {%- endif %}
{%- endmacro %}
