{#-
    The registry of scoring versions (docs/scoring.md). Each entry says its kind:
      kind 'sql'     `score` and `terms` are macros of `image` (see score_v1, score_v2);
                     `uses_events` joins int_image_engagement into its inputs;
      kind 'python'  `model` is a Python dbt model writing one row per candidate
                     (image_id, scoring_version, score, score_terms); `artifact` is the version
                     of its learned parameters, part of the scoring version's name.
    `hotels_affected_by_as_of_change` is the version's rule for the hotels whose ranking can
    move with the run date (`none` means "every hotel"); `uses_events` also puts the hotels
    whose images received events since the last completed run in scope.
    The ranking, overrides, CDC and outputs do not depend on the kind. Select one with
    `--vars '{scoring_version: v2}'` (CLI: --scoring-version v2); a change of the active
    version makes the next run recompute every hotel.
-#}
{% macro scoring_versions() -%}
    {{ return({
        'v1': {
            'kind': 'sql', 'score': score_v1, 'terms': score_terms_v1, 'uses_events': false,
            'hotels_affected_by_as_of_change': hotels_affected_by_as_of_change_v1,
        },
        'v2': {
            'kind': 'sql', 'score': score_v2, 'terms': score_terms_v2, 'uses_events': true,
            'hotels_affected_by_as_of_change': hotels_affected_by_as_of_change_v2,
        },
        'v3-m1': {
            'kind': 'python', 'model': 'int_images_scored_v3', 'artifact': 'm1', 'uses_events': true,
            'hotels_affected_by_as_of_change': hotels_affected_by_as_of_change_v2,
        },
    }) }}
{%- endmacro %}

{#- the registry entry of `version`; an unknown version fails the run at compile time -#}
{% macro scoring_version_entry(version) -%}
    {%- if version not in scoring_versions() -%}
        {{ exceptions.raise_compiler_error(
            "Unknown scoring_version '" ~ version ~ "'. Known: " ~ (scoring_versions().keys() | list | join(', '))
        ) }}
    {%- endif -%}
    {{ return(scoring_versions()[version]) }}
{%- endmacro %}

{% macro active_scoring_version() -%}
    {%- set version = var('scoring_version') | string -%}
    {%- do scoring_version_entry(version) -%}
    {{ return(version) }}
{%- endmacro %}

{#- does the active version read user events (int_image_engagement)? -#}
{% macro active_scoring_uses_events() -%}
    {{ return(scoring_version_entry(active_scoring_version()).get('uses_events', false)) }}
{%- endmacro %}

{#- does a version this run scores (the active one, or the shadow) read user events? When none
    does, int_image_engagement reads no event: on BigQuery that is four weeks of events (tens of
    GB at 10M hotels) that a v1 run would pay for and never use. -#}
{% macro run_scoring_uses_events() -%}
    {%- set shadow = shadow_scoring_version() -%}
    {%- set shadow_uses_events = (
        shadow is not none and scoring_version_entry(shadow).get('uses_events', false)
    ) -%}
    {{ return(active_scoring_uses_events() or shadow_uses_events) }}
{%- endmacro %}

{#- the hotels whose ranking may change with the run date, for the active version; `events`
    (image_id, event_date) is read by the versions that use events -#}
{% macro hotels_affected_by_as_of_change(candidates, previous_as_of, as_of, events=none) -%}
    {%- set entry = scoring_version_entry(active_scoring_version()) -%}
    {%- set scope_macro = entry['hotels_affected_by_as_of_change'] -%}
    {%- if scope_macro is none -%}
        select distinct hotel_id from {{ candidates }}
    {%- elif entry.get('uses_events', false) -%}
        {{ scope_macro(candidates, previous_as_of, as_of, events) }}
    {%- else -%}
        {{ scope_macro(candidates, previous_as_of, as_of) }}
    {%- endif -%}
{%- endmacro %}
