{#- Candidates ranked per hotel: score descending, then created_at descending, then image_id
    ascending. Rank 1 is the automatic main image. -#}
with

scored as (
    select * from {{ ref('int_images_scored') }}
),

final as (
    select
        *,
        row_number() over (
            partition by hotel_id
            order by score desc, created_at desc, image_id asc
        ) as image_rank
    from scored
)

select * from final
