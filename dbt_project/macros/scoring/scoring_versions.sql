{#-
    The registry of scoring versions. To add a version:
      1. write `score_v2(image)` in macros/scoring/score_v2.sql (and, if its scores depend on
         the run date, a `hotels_affected_by_as_of_change_v2`; `none` means "every hotel");
      2. add one line below;
      3. run with `--vars '{scoring_version: v2}'` (CLI: --scoring-version v2).
    A change of the active version makes the next run recompute every hotel.
-#}
{% macro scoring_versions() -%}
    {{ return({
        'v1': {'score': score_v1, 'hotels_affected_by_as_of_change': hotels_affected_by_as_of_change_v1},
    }) }}
{%- endmacro %}

{% macro active_scoring_version() -%}
    {%- set version = var('scoring_version') | string -%}
    {%- if version not in scoring_versions() -%}
        {{ exceptions.raise_compiler_error(
            "Unknown scoring_version '" ~ version ~ "'. Known: " ~ (scoring_versions().keys() | list | join(', '))
        ) }}
    {%- endif -%}
    {{ return(version) }}
{%- endmacro %}

{#- the active version's score of one image (see score_v1 for `image`) -#}
{% macro score_image(image) -%}
    {{ scoring_versions()[active_scoring_version()]['score'](image) }}
{%- endmacro %}

{#- the hotels whose ranking may change with the run date, for the active version -#}
{% macro hotels_affected_by_as_of_change(candidates, previous_as_of, as_of) -%}
    {%- set scope_macro =
        scoring_versions()[active_scoring_version()]['hotels_affected_by_as_of_change'] -%}
    {%- if scope_macro is none -%}
        select distinct hotel_id from {{ candidates }}
    {%- else -%}
        {{ scope_macro(candidates, previous_as_of, as_of) }}
    {%- endif -%}
{%- endmacro %}
