{#- Reason `unfinished_attempt`: hotels changed by attempts that never completed. Their published
    state may come from a configuration or an input that the last completed run did not see.
    `change_log` is marts.fct_main_image_changes as it stands before this run, read without
    ref (it is built from this model: a cycle); none before the first build. -#}
{% macro scope_unfinished_attempts(change_log) %}
hotels_changed_by_unfinished_attempts as (
    {%- if change_log is not none %}
    select hotel_id, 'unfinished_attempt' as scope_reason
    from {{ change_log }}
    where
        invocation_seq
        > coalesce((select max(last_completed_run.invocation_seq) from last_completed_run), 0)
    {%- else %}
    select
        hotel_id,
        'unfinished_attempt' as scope_reason
    from images
    where false
    {%- endif %}
)
{% endmacro %}
