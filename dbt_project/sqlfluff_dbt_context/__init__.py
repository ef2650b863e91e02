"""Stand-ins for the dbt context objects that sqlfluff's jinja templater does not provide.

sqlfluff renders the models and macros with its jinja templater (see /.sqlfluff for why not
the dbt templater). Its `apply_dbt_builtins` supplies ref, source, config, var, this and
is_incremental; the names below are the rest of what this project's SQL uses. They render
the DuckDB branch of every macro (adapter.dispatch resolves duckdb__ then default__ macros
from the loaded macro files) at parse time (`execute` is false: no query is ever run).
Nothing here is used by dbt itself.
"""

import datetime as _datetime
import re as _re
from types import SimpleNamespace
from typing import Any

from jinja2 import pass_context


class _CompilerError(Exception):
    """What exceptions.raise_compiler_error raises: a template that dbt would refuse."""


def _raise_compiler_error(message: str) -> None:
    raise _CompilerError(message)


@pass_context
def _dispatch(context: Any, macro_name: str, macro_namespace: str | None = None) -> Any:
    for prefix in ("duckdb__", "default__"):
        macro = context.get(prefix + macro_name)
        if macro is not None:
            return macro
    raise _CompilerError(f"no duckdb__/default__ implementation of {macro_name}")


def _get_relation(*args: Any, **kwargs: Any) -> None:
    return None


def _translate_type(name: str) -> str:
    return {"string": "varchar", "float64": "double", "int64": "bigint"}.get(name, name)


execute = False
target = SimpleNamespace(type="duckdb", name="duckdb", schema="main", database="main")
adapter = SimpleNamespace(dispatch=_dispatch, get_relation=_get_relation)
api = SimpleNamespace(
    Column=SimpleNamespace(translate_type=_translate_type),
    Relation=SimpleNamespace(create=lambda **kwargs: ".".join(str(v) for v in kwargs.values())),
)
exceptions = SimpleNamespace(raise_compiler_error=_raise_compiler_error, warn=lambda message: "")
modules = SimpleNamespace(re=_re, datetime=_datetime)
graph = SimpleNamespace(nodes={}, sources={})
dbt = SimpleNamespace(
    type_bigint=lambda: "bigint",
    type_string=lambda: "varchar",
    safe_cast=lambda field, type: f"try_cast({field} as {type})",
    dateadd=lambda datepart, interval, from_date_or_timestamp: (
        f"date_add({from_date_or_timestamp}, interval ({interval}) {datepart})"
    ),
    datediff=lambda first_date, second_date, datepart: (
        f"date_diff('{datepart}', {first_date}, {second_date})"
    ),
    hash=lambda field: f"md5(cast({field} as varchar))",
    concat=lambda fields: f"concat({', '.join(fields)})",
    listagg=lambda measure, delimiter_text="','", order_by_clause=None, limit_num=None: (
        f"string_agg({measure}, {delimiter_text} {order_by_clause or ''})"
    ),
)


# dbt_project.yml's defaults of the vars whose values the macros validate or branch on
_VARS = {
    "as_of": "2024-07-03",
    "run_id": "manual",
    "invocation_seq": 0,
    "full_refresh": False,
    "scoring_version": "v1",
    "tag_version_pin": None,
    "obiq_version_pin": None,
    "default_tag_priority": 0.25,
}


def var(name: str, default: Any = None) -> Any:
    """dbt's var: the project default of a var (sqlfluff's builtin renders every var 'item')."""
    return _VARS.get(name, default)


def env_var(name: str, default: str = "") -> str:
    """dbt's env_var: the default (linting never depends on the environment)."""
    return default


def log(message: str, info: bool = False) -> str:
    """dbt's log: nothing."""
    return ""


def run_query(sql: str) -> None:
    """dbt's run_query: never called while `execute` is false."""
    return None
