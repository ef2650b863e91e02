{#- Every candidate of the hotels in scope with the terms the scoring versions share (v2's
    terms: v1's four, obiq, smoothed click-through rate, reports) and the raw engagement counts.
    The features of Python versions (int_images_scored_v3) and of `main-image train-scoring`. -#}
{{ config(materialized='view') }}
{%- set image = scoring_inputs('candidates', 'engagement') -%}

with

candidates as (
    select * from {{ ref('int_image_candidates') }}
),

engagement as (
    select * from {{ ref('int_image_engagement') }}
),

final as (
    select
        candidates.image_id,
        candidates.hotel_id,
        {%- for name, expression in score_terms_v2(image).items() %}
        {{ expression }} as {{ name }},
        {%- endfor %}
        {{ image.impressions }} as impressions,
        {{ image.clicks }} as clicks,
        {{ image.reporting_users }} as reporting_users
    from candidates
    left join engagement
        on candidates.image_id = engagement.image_id
)

select * from final
