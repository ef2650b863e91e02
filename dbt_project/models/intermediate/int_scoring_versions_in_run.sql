{#- The scoring versions this run scores with: the active one and, when var
    shadow_scoring_version is set, the shadow one, with their kind (sql or python), the dbt
    model of a Python version and its artifact. Python models read it: their config is fixed
    when the project is parsed, the run's versions are not. -#}
{{ config(materialized='table') }}
{%- set versions = [('active', active_scoring_version())] -%}
{%- if shadow_scoring_version() is not none -%}
    {%- do versions.append(('shadow', shadow_scoring_version())) -%}
{%- endif -%}

with

final as (
    {%- for role, version in versions %}
    {%- set entry = scoring_version_entry(version) %}
    select
        '{{ version }}' as scoring_version,
        '{{ role }}' as scoring_role,
        '{{ entry.kind }}' as scoring_kind,
        {{ optional_string_literal(entry.get('model')) }} as python_model,
        {{ optional_string_literal(entry.get('artifact')) }} as artifact_version
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)

select * from final
