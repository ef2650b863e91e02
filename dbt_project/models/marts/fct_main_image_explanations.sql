{#-
    Why each hotel has the main image it has: the published main image of every hotel this run
    recomputed, the terms of its score under the active scoring version (score_terms, a JSON
    object), its margin over the best other candidate (null when it is alone) and the hotel's
    candidates in rank order. A hotel recomputed without a candidate keeps a row with a null
    image_id: the publish step reads the rows written since the serving copy was last brought
    up to date (invocation_seq) and removes such hotels from it. Rows of hotels outside the
    scope stay as the run that last recomputed them wrote them (their as_of says when).

    On BigQuery the table is clustered by attempt first: the publish step reads the rows of the
    latest attempts only.
-#}
{{ config(
    materialized='incremental',
    unique_key='hotel_id',
    incremental_strategy=('merge' if target.type == 'bigquery' else 'delete+insert'),
    on_schema_change='fail',
    cluster_by=bq_cluster_by(['invocation_seq', 'hotel_id']),
) }}

with

scope as (
    select hotel_id from {{ ref('int_hotels_in_scope') }}
),

ranked as (
    select * from {{ ref('int_images_ranked_per_hotel') }}
),

snapshot as (
    select * from {{ ref('fct_main_image_snapshot') }}
),

main_image_scored as (
    select
        snapshot.hotel_id,
        snapshot.image_id,
        snapshot.cdn_url,
        snapshot.selection_source,
        ranked.score,
        ranked.score_terms
    from snapshot
    inner join scope
        on snapshot.hotel_id = scope.hotel_id
    left join ranked
        on
            snapshot.hotel_id = ranked.hotel_id
            and snapshot.image_id = ranked.image_id
),

candidates_per_hotel as (
    select
        hotel_id,
        {{ dbt.listagg(
            measure='cast(image_id as ' ~ api.Column.translate_type('string') ~ ')',
            delimiter_text="','",
            order_by_clause='order by image_rank',
        ) }} as candidate_image_ids
    from ranked
    group by hotel_id
),

runner_up as (
    select
        main_image_scored.hotel_id,
        max(ranked.score) as best_other_score
    from main_image_scored
    inner join ranked
        on
            main_image_scored.hotel_id = ranked.hotel_id
            and main_image_scored.image_id <> ranked.image_id
    group by main_image_scored.hotel_id
),

final as (
    select
        scope.hotel_id,
        main_image_scored.image_id,
        main_image_scored.cdn_url,
        main_image_scored.selection_source,
        main_image_scored.score,
        main_image_scored.score_terms,
        main_image_scored.score - runner_up.best_other_score as margin,
        candidates_per_hotel.candidate_image_ids,
        '{{ active_scoring_version() }}' as scoring_version,
        {{ run_id_literal() }} as run_id,
        {{ as_of_date() }} as as_of,
        {{ invocation_seq_literal() }} as invocation_seq
    from scope
    left join main_image_scored
        on scope.hotel_id = main_image_scored.hotel_id
    left join runner_up
        on scope.hotel_id = runner_up.hotel_id
    left join candidates_per_hotel
        on scope.hotel_id = candidates_per_hotel.hotel_id
)

select * from final
