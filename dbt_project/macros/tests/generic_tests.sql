{#- Generic data tests written here because dbt packages cannot be installed. -#}

{#- every row satisfies `expression` -#}
{% test expression_is_true(model, expression, where=none) %}
    select *
    from {{ model }}
    where not ({{ expression }})
    {%- if where %} and ({{ where }}){% endif %}
{% endtest %}

{#- the combination of `combination_of_columns` is unique -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as duplicate_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#- the column's values lie in [min_value, max_value] (either bound optional) -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}
    select *
    from {{ model }}
    where
        {%- if min_value is not none %} {{ column_name }} < {{ min_value }}{% endif %}
        {%- if min_value is not none and max_value is not none %} or{% endif %}
        {%- if max_value is not none %} {{ column_name }} > {{ max_value }}{% endif %}
{% endtest %}
