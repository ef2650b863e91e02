{#-
    Override of dbt-bigquery 1.11.3's `bq_dynamic_insert_overwrite_sql` (copied from dbt/include/
    bigquery/macros/materializations/incremental_strategy/insert_overwrite.sql) for the dynamic
    `insert_overwrite` strategy (no `partitions` config). The only change is step 2: the
    partitions to replace are collected with a plain `array_agg(distinct <field>)` over the rows
    where the field is not null, instead of `select as struct array_agg(distinct <field> IGNORE
    NULLS)`, which the emulator's SQL translator rejects. Same result on BigQuery. Re-copy it
    when upgrading dbt-bigquery.
-#}
{% macro bq_dynamic_insert_overwrite_sql(tmp_relation, target_relation, sql, unique_key, partition_by, dest_columns, tmp_relation_exists, copy_partitions) %}
  {%- if copy_partitions is true %}
     {{ bq_dynamic_copy_partitions_insert_overwrite_sql(tmp_relation, target_relation, sql, unique_key, partition_by, dest_columns, tmp_relation_exists, copy_partitions) }}
  {% else -%}
      {% set predicate -%}
          {{ partition_by.render_wrapped(alias='DBT_INTERNAL_DEST') }} in unnest(dbt_partitions_for_replacement)
      {%- endset %}

      {%- set source_sql -%}
      (
        select
        {% if partition_by.time_ingestion_partitioning -%}
        {{ partition_by.insertable_time_partitioning_field() }},
        {%- endif -%}
        * from {{ tmp_relation }}
      )
      {%- endset -%}

      -- generated script to merge partitions into {{ target_relation }}
      declare dbt_partitions_for_replacement array<{{ partition_by.data_type_for_partition() }}>;

      {# have we already created the temp table to check for schema changes? #}
      {% if not tmp_relation_exists %}
       -- 1. create a temp table with model data
        {{ bq_create_table_as(partition_by, True, tmp_relation, sql, 'sql') }}
      {% else %}
        -- 1. temp table already exists, we used it to check for schema changes
      {% endif %}
      {%- set partition_field = partition_by.time_partitioning_field() if partition_by.time_ingestion_partitioning else partition_by.render_wrapped() -%}

      -- 2. define partitions to update
      set dbt_partitions_for_replacement = (
          -- the WHERE stands for IGNORE NULLS (aligned with _dbt_max_partition, which ignores null)
          select array_agg(distinct {{ partition_field }})
          from {{ tmp_relation }}
          where {{ partition_field }} is not null
      );

      -- 3. run the merge statement
      {{ get_insert_overwrite_merge_sql(target_relation, source_sql, dest_columns, [predicate]) }};

      -- 4. clean up the temp table
      drop table if exists {{ tmp_relation }}

  {% endif %}

{% endmacro %}
