{#- Every candidate image of the hotels in scope, scored with the active scoring version (a SQL
    macro or a Python model: macros/scoring/scored_candidates.sql), with the score's terms as
    JSON (score_terms). On DuckDB a view: its only reader (int_images_ranked_per_hotel) computes
    the scores while it ranks, which is cheaper than writing and reading back a table as wide
    as the candidates. -#}
{{ config(materialized=('table' if target.type == 'bigquery' else 'view')) }}
{{ scoring_version_dependencies() }}

with

final as (
    {{ scored_candidates(active_scoring_version()) }}
)

select * from final
