"""The dbt project in the pipeline DAG as a few ``dbt build --select`` tasks (Cosmos).

Why not one Airflow task per model (Cosmos ``DbtTaskGroup``): every Airflow task is a process
that imports Airflow, dbt and the DAG and parses the dbt project before it does any work (about
6 s here); with ~50 model and test tasks in a one-slot pool a run of 200 hotels took five
minutes for 20 s of dbt work. Three stages keep the boundaries an operator acts on:

* ``dbt.staging``: seeds and the staging models (new raw rows) with their tests;
* ``dbt.selection``: everything the change log needs, up to ``fct_main_image_changes`` (scope,
  candidates, scores, ranking, overrides, the selection) with their tests;
* ``dbt.outputs``: the rest (snapshot, margins, rejected records, reporting) with their tests.

Selection is by dbt graph, not by file list, so a model added to the project lands in the right
stage by its lineage. Tests run with the last of their parents (``--indirect-selection
buildable``). A failed model or test fails its stage, so nothing downstream runs and nothing is
published. Every stage logs a table of its nodes (status, seconds, rows) at the end of its log
and pushes it as the XCom ``dbt_results``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CHANGE_LOG_MODEL = "fct_main_image_changes"
STAGING_SELECT = "path:models/staging path:seeds"


@dataclass(frozen=True)
class Stage:
    name: str
    select: str
    exclude: str | None
    doc: str


STAGES: tuple[Stage, ...] = (
    Stage("staging", STAGING_SELECT, None,
          "Seeds and staging models (append the new raw rows), with their tests."),
    Stage("selection", f"+{CHANGE_LOG_MODEL}", STAGING_SELECT,
          "Scope, candidates, scores, ranking, overrides and the change log, with their tests."),
    Stage("outputs", "fqn:*", f"+{CHANGE_LOG_MODEL} {STAGING_SELECT}",
          "Snapshot, selection margins, rejected records and reporting, with their tests."),
)


def summarize_run_results(run_results: dict[str, Any]) -> dict[str, Any]:
    """What a stage did, from dbt's run_results.json: every model/seed with its status, time and
    rows; tests counted, the ones that did not pass named."""
    nodes: list[dict[str, Any]] = []
    tests: dict[str, int] = {}
    problems: list[str] = []
    for result in run_results.get("results", []):
        unique_id = str(result.get("unique_id", ""))
        status = str(result.get("status", ""))
        seconds = round(float(result.get("execution_time") or 0.0), 2)
        if unique_id.startswith(("test.", "unit_test.")):
            tests[status] = tests.get(status, 0) + 1
            if status != "pass":
                problems.append(f"{status}: {unique_id}: {(result.get('message') or '').strip()}")
            continue
        rows = (result.get("adapter_response") or {}).get("rows_affected")
        nodes.append({"node": unique_id, "status": status, "seconds": seconds, "rows": rows})
        if status not in ("success", "pass"):
            problems.append(f"{status}: {unique_id}: {(result.get('message') or '').strip()}")
    return {
        "elapsed_seconds": round(float(run_results.get("elapsed_time") or 0.0), 2),
        "nodes": nodes,
        "tests": tests,
        "problems": problems,
    }


def format_summary(stage: str, summary: dict[str, Any]) -> str:
    """The table a stage prints at the end of its log (one line per model or seed)."""
    tests = ", ".join(f"{count} {status}" for status, count in sorted(summary["tests"].items()))
    lines = [f"dbt.{stage}: {len(summary['nodes'])} models/seeds, tests: {tests or 'none'}, "
             f"{summary['elapsed_seconds']:.1f}s"]
    width = max((len(node["node"]) for node in summary["nodes"]), default=10)
    for node in summary["nodes"]:
        rows = "" if node["rows"] is None else f"{node['rows']:>9} rows"
        lines.append(f"  {node['status']:<8} {node['node']:<{width}} {node['seconds']:>7.2f}s "
                     f"{rows}".rstrip())
    lines.extend(f"  !! {problem}" for problem in summary["problems"])
    return "\n".join(lines)


def report_stage(tmp_project_dir: str, context: Any = None, stage: str = "") -> None:
    """Cosmos ``callback`` (runs after dbt, also when it failed): log and XCom the table."""
    path = Path(tmp_project_dir) / "target" / "run_results.json"
    if not path.is_file():
        log.warning("dbt.%s: no run_results.json (dbt did not get to run any node)", stage)
        return
    summary = summarize_run_results(json.loads(path.read_text(encoding="utf-8")))
    log.info("%s", format_summary(stage, summary))
    if context is not None:
        context["ti"].xcom_push(key="dbt_results", value=summary)


def partial_parse_cache(name: str, config: Any) -> Path:
    """A Cosmos partial-parse cache folder of its own for ``name`` (created when first written).

    dbt re-parses the whole project when the ``--vars`` differ from the cached parse's. The
    build stages of one run share their vars, so the first stage parses and the next ones reuse
    it; ``dbt source freshness`` has no vars and gets a cache of its own, so it parses once per
    worker, not once per run. The folder is keyed by the project, target and warehouse (the
    profile), so two deployments on one machine never invalidate each other's parse."""
    import hashlib

    from cosmos import settings

    key = json.dumps([str(config.dbt_project_dir), config.dbt_target,
                      sorted(config.dbt_env().items())])
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return Path(settings.cache_dir) / f"main_image_pipeline__{name}__{digest}"


def stage_operators(config: Any, guard: Any, dbt_vars: dict[str, str]) -> list[Any]:
    """One Cosmos ``DbtBuildLocalOperator`` per stage, chained in stage order (call inside the
    ``dbt`` TaskGroup)."""
    from cosmos import ProfileConfig
    from cosmos.constants import InvocationMode
    from cosmos.operators.local import DbtBuildLocalOperator

    from main_image.dbt_runner import PIPELINE_BUILD_EXCLUDES

    profile = ProfileConfig(
        profile_name="main_image",
        target_name=config.dbt_target,
        profiles_yml_filepath=config.dbt_project_dir / "profiles.yml",
    )
    operators = []
    for stage in STAGES:
        operator = DbtBuildLocalOperator(
            task_id=stage.name,
            doc_md=stage.doc,
            project_dir=str(config.dbt_project_dir),
            profile_config=profile,
            invocation_mode=InvocationMode.DBT_RUNNER,
            install_deps=False,
            select=stage.select,
            exclude=stage.exclude,
            indirect_selection="buildable",
            dbt_cmd_flags=list(PIPELINE_BUILD_EXCLUDES),
            vars=dbt_vars,
            env=config.dbt_env(),
            emit_datasets=False,
            cache_dir=partial_parse_cache("build", config),
            pool=config.pool,
            pre_execute=guard,
            callback=report_stage,
            callback_args={"stage": stage.name},
        )
        if operators:
            operators[-1] >> operator
        operators.append(operator)
    return operators
