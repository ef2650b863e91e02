{#-
    Scoring version v2: v1's terms plus what v1 ignores (docs/contract.md, "Scoring v2").
    Every weight and constant lives in scoring_v2_constants(); nothing else hard-codes them.

    `image` maps the inputs to SQL expressions: those of score_v1 plus
      obiq_score           the active obiq score (null when the image has none)
      impressions, clicks  the image's events in the engagement window (0 when none)
      reporting_users      distinct users who reported it in the window (0 when none)
-#}
{% macro scoring_v2_constants() -%}
    {{ return({
        'obiq_neutral': 0.5,
        'engagement_window_days': 28,
        'ctr_prior': 0.1,
        'ctr_prior_impressions': 20,
        'report_min_users': 2,
        'w_res': 6, 'w_ar': 2, 'w_fresh': 2, 'w_tag': 3, 'w_obiq': 4, 'w_ctr': 3,
        'report_penalty': 0.25,
    }) }}
{%- endmacro %}

{#- v2's terms, each a SQL expression in [0, 1] (s_res may be below 0, as in v1) -#}
{% macro score_terms_v2(image) -%}
    {%- set c = scoring_v2_constants() -%}
    {%- set float_type = type_double() -%}
    {%- set smoothed_ctr -%}
        ((cast({{ image.clicks }} as {{ float_type }}) + {{ c.ctr_prior * c.ctr_prior_impressions }})
        / ({{ image.impressions }} + {{ c.ctr_prior_impressions }}))
    {%- endset -%}
    {%- set terms = score_terms_v1(image) -%}
    {%- do terms.update({
        's_obiq': 'coalesce(' ~ image.obiq_score ~ ', ' ~ c.obiq_neutral ~ ')',
        's_ctr': '(' ~ smoothed_ctr ~ ' / (' ~ smoothed_ctr ~ ' + ' ~ c.ctr_prior ~ '))',
        's_report': 'case when ' ~ image.reporting_users ~ ' >= ' ~ c.report_min_users
            ~ ' then 1 else 0 end',
    }) -%}
    {{ return(terms) }}
{%- endmacro %}

{% macro score_v2(image) -%}
    {%- set c = scoring_v2_constants() -%}
    {%- set t = score_terms_v2(image) -%}
    {%- set total = c.w_res + c.w_ar + c.w_fresh + c.w_tag + c.w_obiq + c.w_ctr -%}
    (
        (
            {{ c.w_res }} * {{ t.s_res }}
            + {{ c.w_ar }} * {{ t.s_ar }}
            + {{ c.w_fresh }} * {{ t.s_fresh }}
            + {{ c.w_tag }} * {{ t.s_tag }}
            + {{ c.w_obiq }} * {{ t.s_obiq }}
            + {{ c.w_ctr }} * {{ t.s_ctr }}
        ) / {{ total }}.0
        - {{ c.report_penalty }} * {{ t.s_report }}
    )
{%- endmacro %}

{#-
    The hotels whose v2 ranking can change when the run date moves from `previous_as_of` to
    `as_of`, all other inputs unchanged. Two terms depend on the date: s_fresh, with the same
    slope for every image as in v1 (so v1's rule applies), and the engagement window
    [as_of - window, as_of), which s_ctr and s_report read: a hotel is also affected when one
    of its active images has an event inside one window and not the other. `candidates` has
    hotel_id, image_id and created_date; `events` has image_id and event_date.
-#}
{% macro hotels_affected_by_as_of_change_v2(candidates, previous_as_of, as_of, events) -%}
    {%- set window = scoring_v2_constants().engagement_window_days -%}
    {{ hotels_affected_by_as_of_change_v1(candidates, previous_as_of, as_of) }}
    union all
    select distinct moved.hotel_id
    from {{ candidates }} as moved
    inner join {{ events }} as window_events
        on moved.image_id = window_events.image_id
    where
        (
            window_events.event_date >= {{ dbt.dateadd('day', -window, previous_as_of) }}
            and window_events.event_date < {{ previous_as_of }}
        ) <> (
            window_events.event_date >= {{ dbt.dateadd('day', -window, as_of) }}
            and window_events.event_date < {{ as_of }}
        )
{%- endmacro %}
