{#- Every candidate image of the hotels in scope, scored with the active scoring version.
    On DuckDB a view: its only reader (int_images_ranked_per_hotel) computes the scores while it
    ranks, which is cheaper than writing and reading back a table as wide as the candidates. -#}
{{ config(materialized=('table' if target.type == 'bigquery' else 'view')) }}
with

candidates as (
    select * from {{ ref('int_image_candidates') }}
),

final as (
    select
        *,
        {{ score_image({
            'width': 'width',
            'height': 'height',
            'created_date': 'created_date',
            'as_of': as_of_date(),
            'tag_priority': 'tag_priority',
            'obiq_score': 'obiq_score',
        }) }} as score,
        '{{ active_scoring_version() }}' as scoring_version
    from candidates
)

select * from final
