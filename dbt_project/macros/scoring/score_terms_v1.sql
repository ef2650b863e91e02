{#-
    The terms of scoring version v1 (contract §3), each a SQL expression, for showing a score's
    parts (int_images_scored.score_terms) and as features of later versions. score_v1 itself
    stays as it is (v1 is never edited in place); the same formulas, checked by the unit test
    score_v2_terms_follow_the_contract and by tests/test_scoring.py (terms recombine into the
    score). `image` as for score_v1.
-#}
{% macro score_terms_v1(image) -%}
    {%- set float_type = type_double() -%}
    {%- set resolution = '(cast(' ~ image.width ~ ' as ' ~ float_type ~ ') * '
        ~ image.height ~ ')' -%}
    {{ return({
        's_res': 'case when ' ~ resolution ~ ' <= 0 then 0 else least(1, (ln(greatest('
            ~ resolution ~ ', 1)) - ln(160000)) / (ln(2073600) - ln(160000))) end',
        's_ar': 'case when ' ~ image.height ~ ' = 0 then 0 when cast(' ~ image.width ~ ' as '
            ~ float_type ~ ') / ' ~ image.height ~ ' between 0.3 and 4.65 then 1 else 0 end',
        's_fresh': 'greatest(0, least(1, 1 - ' ~ dbt.datediff(image.created_date, image.as_of, 'day')
            ~ ' / 3650.0))',
        's_tag': 'coalesce(' ~ image.tag_priority ~ ', 0)',
    }) }}
{%- endmacro %}
