{#- The Product department's daily view: per run date, what was processed and what changed. -#}
with

run_metrics as (
    select * from {{ ref('rpt_run_metrics') }}
),

final as (
    select
        as_of as report_date,
        count(*) as runs,
        cast(sum(images_processed) as {{ dbt.type_bigint() }}) as images_processed,
        max(hotels_with_images) as hotels_with_images,
        cast(sum(main_images_new) as {{ dbt.type_bigint() }}) as main_images_new,
        cast(sum(main_images_updated) as {{ dbt.type_bigint() }}) as main_images_updated,
        cast(sum(main_images_deleted) as {{ dbt.type_bigint() }}) as main_images_deleted,
        cast(
            sum(
                main_images_new + main_images_updated + main_images_deleted
            ) as {{ dbt.type_bigint() }}
        )
            as main_images_changed,
        cast(sum(main_images_from_overrides) as {{ dbt.type_bigint() }})
            as main_images_from_overrides,
        cast(sum(
            rejected_images + rejected_image_tags + rejected_obiq_scores
            + rejected_main_images + rejected_admin_overrides + rejected_user_events
        ) as {{ dbt.type_bigint() }}) as rejected_records
    from run_metrics
    group by as_of
)

select * from final
