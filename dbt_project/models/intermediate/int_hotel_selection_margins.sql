{#-
    For every hotel ranked by this run: how far ahead its automatic winner was (rank 1's score
    minus rank 2's), on which run date and under which scoring configuration. The next runs
    read it in int_hotels_in_scope: when only the run date moved, a hotel whose margin exceeds
    the most the date can move two scores apart (macro as_of_score_drift_per_day) keeps its
    winner, so it is not recomputed. Hotels ranked with no or one candidate cannot change with
    the date. Built after the changes and the snapshot (depends_on below), so a row is only
    written once the hotel's selection has been published.
-#}
-- depends_on: {{ ref('fct_main_image_snapshot') }}
{{ config(
    materialized='incremental',
    unique_key='hotel_id',
    incremental_strategy=('merge' if target.type == 'bigquery' else 'delete+insert'),
    on_schema_change='fail',
) }}

with

scope as (
    select hotel_id from {{ ref('int_hotels_in_scope') }}
),

ranked as (
    select
        hotel_id,
        score,
        image_rank
    from {{ ref('int_images_ranked_per_hotel') }}
    where image_rank <= 2
),

per_hotel as (
    select
        hotel_id,
        count(*) as top_candidates,
        max(case when image_rank = 1 then score end) - max(case when image_rank = 2 then score end)
            as score_margin
    from ranked
    group by hotel_id
),

final as (
    select
        scope.hotel_id,
        {{ as_of_date() }} as ranked_as_of,
        '{{ active_scoring_version() }}' as scoring_version,
        {{ optional_string_literal(var('tag_version_pin')) }} as tag_version_pin,
        {{ optional_string_literal(var('obiq_version_pin')) }} as obiq_version_pin,
        coalesce(per_hotel.top_candidates, 0) as top_candidates,
        per_hotel.score_margin,
        {{ invocation_seq_literal() }} as invocation_seq
    from scope
    left join per_hotel
        on scope.hotel_id = per_hotel.hotel_id
)

select * from final
