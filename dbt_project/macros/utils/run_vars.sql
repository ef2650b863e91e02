{#- The run parameters, validated once so that a bad value fails loudly at compile time. -#}
{% macro as_of_date() -%}
    {%- set as_of = var('as_of') | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', as_of) -%}
        {{ exceptions.raise_compiler_error("var as_of must be YYYY-MM-DD, got '" ~ as_of ~ "'") }}
    {%- endif -%}
    cast('{{ as_of }}' as date)
{%- endmacro %}

{% macro run_id_literal() -%}
    '{{ var("run_id") | replace("'", "''") }}'
{%- endmacro %}

{% macro invocation_seq_literal() -%}
    {{ var('invocation_seq') | int }}
{%- endmacro %}

{% macro is_full_refresh_run() -%}
    {{ return(var('full_refresh') in [true, 'true', 'True', '1', 1]) }}
{%- endmacro %}

{#- a nullable string var as a SQL literal -#}
{% macro optional_string_literal(value) -%}
    {%- if value is none or value | string | lower in ['', 'none', 'null'] -%}
        cast(null as {{ api.Column.translate_type('string') }})
    {%- else -%}
        '{{ value | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}
