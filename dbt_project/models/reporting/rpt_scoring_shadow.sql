{#- One row per run with a shadow scoring version (var shadow_scoring_version): how many hotels
    in scope were compared, how many main images switching to the shadow version would change,
    the distribution of the score deltas of the compared candidates (shadow score minus active
    score, per image), and a sample of the hotels that would change with both images' URLs
    (JSON, var shadow_sample_size, by hotel_id). Appended per attempt; nothing is published. -#}
{{ config(
    materialized='incremental',
    unique_key='invocation_seq',
    incremental_strategy=('merge' if target.type == 'bigquery' else 'delete+insert'),
    on_schema_change='fail',
) }}
{%- set shadow = shadow_scoring_version() %}

with

compared as (
    select * from {{ ref('int_main_image_shadow_compared') }}
),

active_scores as (
    select * from {{ ref('int_images_scored') }}
),

shadow_scores as (
    select * from {{ ref('int_images_scored_shadow') }}
),

deltas as (
    select shadow_scores.score - active_scores.score as score_delta
    from shadow_scores
    inner join active_scores
        on shadow_scores.image_id = active_scores.image_id
),

delta_stats as (
    select
        count(*) as candidates_compared,
        avg(score_delta) as score_delta_mean,
        min(score_delta) as score_delta_min,
        {{ shadow_quantile('score_delta', 0.1) }} as score_delta_p10,
        {{ shadow_quantile('score_delta', 0.5) }} as score_delta_p50,
        {{ shadow_quantile('score_delta', 0.9) }} as score_delta_p90,
        max(score_delta) as score_delta_max
    from deltas
),

hotel_counts as (
    select
        count(*) as hotels_compared,
        coalesce(sum(case when main_image_changes then 1 else 0 end), 0) as hotels_changed
    from compared
),

sampled as (
    select *
    from compared
    where main_image_changes
    qualify row_number() over (order by hotel_id) <= {{ var('shadow_sample_size', 20) | int }}
),

sample as (
    select {{ shadow_sample_json('sampled') }} as sample_hotels
    from sampled
),

final as (
    select
        {{ invocation_seq_literal() }} as invocation_seq,
        {{ run_id_literal() }} as run_id,
        {{ as_of_date() }} as as_of,
        '{{ active_scoring_version() }}' as scoring_version,
        '{{ shadow }}' as shadow_scoring_version,
        hotel_counts.hotels_compared,
        hotel_counts.hotels_changed,
        delta_stats.candidates_compared,
        delta_stats.score_delta_mean,
        delta_stats.score_delta_min,
        delta_stats.score_delta_p10,
        delta_stats.score_delta_p50,
        delta_stats.score_delta_p90,
        delta_stats.score_delta_max,
        sample.sample_hotels
    from hotel_counts
    cross join delta_stats
    cross join sample
    where {{ 'true' if shadow is not none else 'false' }}
)

select * from final
