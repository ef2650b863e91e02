{#- The candidates of the hotels in scope scored with the shadow version (var
    shadow_scoring_version), the same columns as int_images_scored; no row without one. On
    DuckDB a view, as int_images_scored. -#}
{{ config(materialized=('table' if target.type == 'bigquery' else 'view')) }}
{{ scoring_version_dependencies() }}
{%- set shadow = shadow_scoring_version() %}

with

scored as (
    {{ scored_candidates(shadow if shadow is not none else active_scoring_version()) }}
),

final as (
    select * from scored
    where {{ 'true' if shadow is not none else 'false' }}
)

select * from final
