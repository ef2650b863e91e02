{#-
    The candidates of the hotels in scope scored with one scoring version, whatever its kind
    (the registry in scoring_versions.sql says which): a SQL version's macros compute the score
    and its terms in the query; a Python version's dbt model has already written one row per
    candidate (image_id, scoring_version, score, score_terms), which is joined here. The rest of
    the pipeline (ranking, overrides, CDC, outputs) only sees the columns of this query:
    candidates.*, score, score_terms (a JSON object of the version's terms), scoring_version.
-#}
{% macro scored_candidates(version) -%}
    {%- set entry = scoring_version_entry(version) -%}
    {%- if entry.kind == 'python' %}
    select
        candidates.*,
        python_scores.score,
        python_scores.score_terms,
        '{{ version }}' as scoring_version
    from {{ ref('int_image_candidates') }} as candidates
    left join {{ ref(entry.model) }} as python_scores
        on
            candidates.image_id = python_scores.image_id
            and python_scores.scoring_version = '{{ version }}'
    {%- else %}
    {%- set image = scoring_inputs('candidates', 'engagement') %}
    select
        candidates.*,
        {{ entry.score(image) }} as score,
        {{ terms_json(entry.terms(image)) }} as score_terms,
        '{{ version }}' as scoring_version
    from {{ ref('int_image_candidates') }} as candidates
    {%- if entry.uses_events %}
    left join {{ ref('int_image_engagement') }} as engagement
        on candidates.image_id = engagement.image_id
    {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- The inputs of a SQL version (see score_v1 and score_v2 for `image`), read from a candidates
    relation and an engagement relation joined on image_id (no engagement row: no events). -#}
{% macro scoring_inputs(candidates, engagement) -%}
    {{ return({
        'width': candidates ~ '.width',
        'height': candidates ~ '.height',
        'created_date': candidates ~ '.created_date',
        'as_of': as_of_date(),
        'tag_priority': candidates ~ '.tag_priority',
        'obiq_score': candidates ~ '.obiq_score',
        'impressions': 'coalesce(' ~ engagement ~ '.impressions, 0)',
        'clicks': 'coalesce(' ~ engagement ~ '.clicks, 0)',
        'reporting_users': 'coalesce(' ~ engagement ~ '.reporting_users, 0)',
    }) }}
{%- endmacro %}

{#- Every model a scoring version may read, as dbt dependencies: the manifest is parsed once
    without run variables (main_image.dbt_runner), so a model that scores with a configurable
    version must depend on all of them. Python versions are left out on BigQuery unless var
    python_scoring_on_bigquery is true (they need a submission method: docs/scoring.md). -#}
{% macro scoring_version_dependencies() -%}
    /* depends_on: {{ ref('int_image_engagement') }} */
    {%- for name, entry in scoring_versions().items() if entry.kind == 'python' %}
    {%- if python_scoring_enabled() %}
    /* depends_on: {{ ref(entry.model) }} */
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{% macro python_scoring_enabled() -%}
    {%- set enabled = var('python_scoring_on_bigquery', false) in [true, 'true', 'True'] -%}
    {{ return(target.type != 'bigquery' or enabled) }}
{%- endmacro %}

{#- A JSON object (as text) of named SQL expressions -#}
{% macro terms_json(terms) -%}
    {{ return(adapter.dispatch('terms_json')(terms)) }}
{%- endmacro %}

{% macro default__terms_json(terms) -%}
    cast(json_object(
        {%- for name, expression in terms.items() %}
        '{{ name }}', {{ expression }}{{ ',' if not loop.last }}
        {%- endfor %}
    ) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro bigquery__terms_json(terms) -%}
    to_json_string(json_object(
        {%- for name, expression in terms.items() %}
        '{{ name }}', {{ expression }}{{ ',' if not loop.last }}
        {%- endfor %}
    ))
{%- endmacro %}

{#- The versions the run scores with: the active one and, when set, the shadow one -#}
{% macro shadow_scoring_version() -%}
    {%- set version = var('shadow_scoring_version', none) -%}
    {%- if version is none or version | string | lower in ['', 'none', 'null'] -%}
        {{ return(none) }}
    {%- endif -%}
    {%- do scoring_version_entry(version | string) -%}
    {{ return(version | string) }}
{%- endmacro %}

{#- the `fraction` quantile of a numeric column (rpt_scoring_shadow) -#}
{% macro shadow_quantile(column, fraction) -%}
    {{ return(adapter.dispatch('shadow_quantile')(column, fraction)) }}
{%- endmacro %}

{% macro default__shadow_quantile(column, fraction) -%}
    quantile_cont({{ column }}, {{ fraction }})
{%- endmacro %}

{% macro bigquery__shadow_quantile(column, fraction) -%}
    approx_quantiles({{ column }}, 100)[safe_offset({{ (fraction * 100) | int }})]
{%- endmacro %}

{#- the rows of `relation` (int_main_image_shadow_compared columns) as a JSON array, by hotel_id -#}
{% macro shadow_sample_json(relation) -%}
    {{ return(adapter.dispatch('shadow_sample_json')(relation)) }}
{%- endmacro %}

{% macro default__shadow_sample_json(relation) -%}
    coalesce(cast(to_json(list({
        'hotel_id': {{ relation }}.hotel_id,
        'active_image_id': {{ relation }}.active_image_id,
        'active_cdn_url': {{ relation }}.active_cdn_url,
        'active_score': {{ relation }}.active_score,
        'shadow_image_id': {{ relation }}.shadow_image_id,
        'shadow_cdn_url': {{ relation }}.shadow_cdn_url,
        'shadow_score': {{ relation }}.shadow_score
    } order by {{ relation }}.hotel_id)) as {{ dbt.type_string() }}), '[]')
{%- endmacro %}

{% macro bigquery__shadow_sample_json(relation) -%}
    to_json_string(array_agg(struct(
        {{ relation }}.hotel_id,
        {{ relation }}.active_image_id,
        {{ relation }}.active_cdn_url,
        {{ relation }}.active_score,
        {{ relation }}.shadow_image_id,
        {{ relation }}.shadow_cdn_url,
        {{ relation }}.shadow_score
    ) order by {{ relation }}.hotel_id))
{%- endmacro %}
