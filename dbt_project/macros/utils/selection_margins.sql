{#-
    How far the run date can move the score of one image, per day, for each scoring version:
    the bound int_hotels_in_scope uses to leave out hotels whose main image cannot change when
    only the date moved (see int_hotel_selection_margins). v1: only s_fresh depends on the date;
    it moves by at most 1/3650 per day and weighs 2 of 13, so a score moves by at most
    2 / 13 / 3650 per day, and two scores of one hotel move in the same direction.
    A version without an entry (`none`) keeps its `hotels_affected_by_as_of_change` rule for
    every hotel.
-#}
{% macro as_of_score_drift_per_day() -%}
    {%- set bounds = {'v1': 2.0 / 13 / 3650} -%}
    {{ return(bounds.get(active_scoring_version())) }}
{%- endmacro %}

{#- the relation of int_hotel_selection_margins as the last run left it (none before it exists);
    read by int_hotels_in_scope, which runs before it in the same build (no ref: it would be a
    cycle) -#}
{% macro selection_margins_relation() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=this.database, schema=this.schema, identifier='int_hotel_selection_margins'
    )) }}
{%- endmacro %}
