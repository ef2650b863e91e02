"""What a run is asked to do, and the one list of dbt run variables derived from it.

The dbt project reads these variables (``dbt_project.yml`` declares them); the CLI passes them
with ``--vars`` (``dbt_variables``), the Airflow DAG renders them from the register task's XCom
(``registration`` and ``dbt_vars_template``). Nothing here imports a warehouse client: the DAG
files use it at parse time.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class RunParameters:
    """What a run is asked to do; recorded in ``raw.pipeline_runs``."""

    run_id: str
    as_of: date
    scoring_version: str = "v1"
    tag_version_pin: str | None = None
    obiq_version_pin: str | None = None
    full_refresh: bool = False
    #: a scoring version ranked beside the active one, reported in rpt_scoring_shadow only
    shadow_scoring_version: str | None = None


#: The dbt run variables, in the order they are documented: the fields of RunParameters plus
#: the attempt's ``invocation_seq``.
RUN_VARIABLES: tuple[str, ...] = (
    "run_id",
    "invocation_seq",
    "as_of",
    "full_refresh",
    "scoring_version",
    "tag_version_pin",
    "obiq_version_pin",
    "shadow_scoring_version",
)


def registration(params: RunParameters, invocation_seq: int) -> dict[str, Any]:
    """The run variables of one attempt, JSON-friendly (the register task's XCom)."""
    values = dataclasses.asdict(params)
    values["as_of"] = params.as_of.isoformat()
    values["invocation_seq"] = invocation_seq
    return {name: values[name] for name in RUN_VARIABLES}


def dbt_variables(params: RunParameters, invocation_seq: int) -> dict[str, Any]:
    """The ``--vars`` of a dbt invocation for this attempt."""
    return registration(params, invocation_seq)


#: How each variable is rendered from the XCom in a Cosmos template (default: as it is).
_TEMPLATE_FILTERS = {
    "full_refresh": " | lower",
    "tag_version_pin": " or ''",
    "obiq_version_pin": " or ''",
    "shadow_scoring_version": " or ''",
}


def dbt_vars_template(register_task_id: str) -> dict[str, str]:
    """Cosmos ``vars``: each run variable rendered at run time from the register task's XCom."""
    pull = f"ti.xcom_pull(task_ids='{register_task_id}')"
    return {
        name: "{{ " + f"{pull}['{name}']{_TEMPLATE_FILTERS.get(name, '')}" + " }}"
        for name in RUN_VARIABLES
    }


def safe_path_component(run_id: str) -> str:
    """A run id as a folder name: anything but letters, digits, '.', '_', '-' becomes '-'.

    ``manual__2024-07-01T00:00:00+00:00`` -> ``manual__2024-07-01T00-00-00-00-00``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", run_id).strip(".")
    return cleaned or "run"
