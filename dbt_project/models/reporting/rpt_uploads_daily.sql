{#- Uploads per day, every day from the first to the last upload (days without one are zeros):
    new images by the day of their `uploaded_at` (images without one are not counted), the
    distinct sources that uploaded and the bytes uploaded. An image counts once, on its first
    record. Rebuilt each run (one row per day: small). -#}
with

first_seen as (
    select * from {{ ref('int_images_first_seen') }}
),

uploads as (
    select
        cast(uploaded_at as date) as upload_date,
        image_source,
        file_size_bytes
    from first_seen
    where uploaded_at is not null
),

bounds as (
    select
        min(upload_date) as first_day,
        max(upload_date) as last_day
    from uploads
),

days as (
    {{ day_series('bounds', 'first_day', 'last_day', 'upload_date') }}
),

daily as (
    select
        upload_date,
        count(*) as uploads,
        count(distinct image_source) as distinct_sources,
        cast(sum(file_size_bytes) as {{ dbt.type_bigint() }}) as uploaded_bytes
    from uploads
    group by upload_date
),

final as (
    select
        days.upload_date,
        coalesce(daily.uploads, 0) as uploads,
        coalesce(daily.distinct_sources, 0) as distinct_sources,
        coalesce(daily.uploaded_bytes, 0) as uploaded_bytes
    from days
    left join daily
        on days.upload_date = daily.upload_date
)

select * from final
