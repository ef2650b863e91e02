{#- The formats of the current images (latest state, active): images per MIME type (case-folded;
    'unknown' when not delivered), how many carry a file size, their total and average size and
    the share of all current images. Rebuilt each run. -#}
with

images as (
    select * from {{ ref('int_images_latest') }}
    where is_active
),

formats as (
    select
        {{ report_dimension('lower(mime_type)') }} as mime_type,
        file_size_bytes
    from images
),

aggregated as (
    select
        mime_type,
        count(*) as images,
        count(file_size_bytes) as images_with_size,
        cast(sum(file_size_bytes) as {{ dbt.type_bigint() }}) as total_file_size_bytes,
        avg(cast(file_size_bytes as {{ type_double() }})) as avg_file_size_bytes
    from formats
    group by mime_type
),

final as (
    select
        mime_type,
        images,
        images_with_size,
        total_file_size_bytes,
        avg_file_size_bytes,
        cast(images as {{ type_double() }}) / sum(images) over () as share_of_images
    from aggregated
)

select * from final
