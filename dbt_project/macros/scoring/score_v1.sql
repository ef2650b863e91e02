{#-
    Scoring version v1: the reference (contract §3). Never edit it in place: add v2 beside it.

    `image` maps the inputs to SQL expressions:
      width, height        integers
      created_date         date the image was created (UTC)
      as_of                the run's date
      tag_priority         priority of the image's top tag (null when it has no top tag)
-#}
{% macro score_v1(image) -%}
    {%- set float_type = type_double() -%}
    {%- set resolution =
        '(cast(' ~ image.width ~ ' as ' ~ float_type ~ ') * ' ~ image.height ~ ')' -%}
    (
        {#- s_res: log-scaled resolution, capped at 1 and deliberately not clipped below 0 #}
        6 * case
            when {{ resolution }} <= 0 then 0
            else least(1, (ln(greatest({{ resolution }}, 1)) - ln(160000)) / (ln(2073600) - ln(160000)))
        end
        {#- s_ar: 1 for an aspect ratio within [0.3, 4.65] #}
        + 2 * case
            when {{ image.height }} = 0 then 0
            when cast({{ image.width }} as {{ float_type }}) / {{ image.height }} between 0.3 and 4.65 then 1
            else 0
        end
        {#- s_fresh: 1 for a new image, falling linearly to 0 at 3650 days #}
        + 2 * greatest(0, least(1, 1 - {{ dbt.datediff(image.created_date, image.as_of, 'day') }} / 3650.0))
        {#- s_tag: the top tag's priority #}
        + 3 * coalesce({{ image.tag_priority }}, 0)
    ) / 13.0
{%- endmacro %}

{#-
    The hotels whose v1 ranking can change when the run date moves from `previous_as_of` to
    `as_of`, all other inputs unchanged. Only s_fresh depends on the date: it falls by the same
    amount for every image aged 0..3650 days on both dates ("linear"), and stays put for images
    in the future or older than 3650 days on both dates ("constant"). A hotel's order can only
    change when an image crosses 0 or 3650 days in between, or when it mixes linear and constant
    images. `candidates` has hotel_id and created_date.
-#}
{% macro hotels_affected_by_as_of_change_v1(candidates, previous_as_of, as_of) -%}
    {%- set earlier = 'least(' ~ previous_as_of ~ ', ' ~ as_of ~ ')' -%}
    {%- set later = 'greatest(' ~ previous_as_of ~ ', ' ~ as_of ~ ')' -%}
    select hotel_id
    from (
        select
            hotel_id,
            case
                when created_date >= {{ later }} then 'constant'
                when {{ dbt.dateadd('day', 3650, 'created_date') }} <= {{ earlier }} then 'constant'
                when created_date <= {{ earlier }}
                    and {{ dbt.dateadd('day', 3650, 'created_date') }} >= {{ later }} then 'linear'
                else 'crossing'
            end as freshness_regime
        from {{ candidates }}
    ) as regimes
    group by hotel_id
    having
        max(case when freshness_regime = 'crossing' then 1 else 0 end) = 1
        or (
            max(case when freshness_regime = 'linear' then 1 else 0 end) = 1
            and max(case when freshness_regime = 'constant' then 1 else 0 end) = 1
        )
{%- endmacro %}
