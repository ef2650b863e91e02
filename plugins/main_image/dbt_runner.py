"""Drive dbt in-process (dbtRunner): no subprocess, one parse per invocation."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from main_image.settings import DBT_PROJECT_DIR

Progress = Callable[[str], None]


class DbtError(RuntimeError):
    """dbt failed: a model errored or a data test failed. Nothing was published."""


@dataclass
class DbtResult:
    success: bool
    seconds: float
    failures: list[str] = field(default_factory=list)
    node_timings: dict[str, float] = field(default_factory=dict)


def dbt_environment(warehouse: Path | None, target: str | None) -> dict[str, str]:
    """The environment variables profiles.yml reads."""
    env = {
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    if warehouse is not None:
        env["MAIN_IMAGE_WAREHOUSE"] = str(warehouse.resolve())
        env.setdefault("MAIN_IMAGE_DUCKDB_TEMP_DIR", str(warehouse.resolve().parent / "tmp"))
    if target is not None:
        env["MAIN_IMAGE_DBT_TARGET"] = target
    return env


#: Parsed manifests by (project dir, target, warehouse file name): a process that runs dbt many
#: times (the tests, a long-lived worker) parses once. Run parameters are vars used only inside
#: model bodies, which dbt renders at execution time, so a cached manifest serves every run. The
#: DuckDB catalog is named after the file's stem, so warehouses with the same file name in
#: different folders share a manifest.
_MANIFESTS: dict[tuple[str, str | None, str | None], Any] = {}


def _parsed_manifest(runner_cls: Any, env_key: tuple[str, str | None, str | None]) -> Any:
    manifest = _MANIFESTS.get(env_key)
    if manifest is None:
        outcome = runner_cls().invoke(
            ["parse", "--project-dir", env_key[0], "--profiles-dir", env_key[0], "--quiet"]
        )
        if not outcome.success:
            raise DbtError(f"dbt parse failed: {outcome.exception}")
        manifest = outcome.result
        _MANIFESTS[env_key] = manifest
    return manifest


#: The run parameters the pipeline passes (pipeline.dbt_variables). They are used only inside
#: model bodies, so a manifest parsed without them serves a run that sets them.
RUN_VARIABLES = frozenset(
    {"run_id", "invocation_seq", "as_of", "full_refresh", "scoring_version", "tag_version_pin",
     "obiq_version_pin", "shadow_scoring_version"}
)


def _parse_without_variables(runner_cls: Any) -> Any:
    """`dbt parse` without --vars, with dbt's partial parsing: --vars change every run and
    would make dbt re-parse the whole project (seconds per run); without them, a process that
    follows another with the same project files and profile reuses the target folder's
    partial_parse.msgpack. Returns None when the parse fails (the command then parses itself)."""
    outcome = runner_cls().invoke(
        ["parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--quiet"]
    )
    return outcome.result if outcome.success else None


def clear_manifest_cache() -> None:
    """Forget parsed manifests (after editing the dbt project in a long-lived process)."""
    _MANIFESTS.clear()


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a command.

    DuckDB allows one writing process per file: the loader, the exports and Airflow tasks in
    other processes must be able to open the warehouse as soon as dbt is done.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt-duckdb not installed: nothing to release
        return
    environment = DuckDBConnectionManager._ENV
    if environment is not None and hasattr(environment, "close"):
        environment.close()
    DuckDBConnectionManager.close_all_connections()


def run_dbt(
    command: list[str],
    variables: dict[str, Any] | None = None,
    warehouse: Path | None = None,
    target: str | None = None,
    progress: Progress | None = None,
    raise_on_failure: bool = True,
    reuse_manifest: bool = False,
) -> DbtResult:
    """Run one dbt command (e.g. ["build"]) against the project, reporting each node."""
    from dbt.cli.main import dbtRunner  # heavy import, only when dbt actually runs

    os.environ.update(dbt_environment(warehouse, target))
    node_timings: dict[str, float] = {}
    failures: list[str] = []
    finished = 0

    def on_event(event: Any) -> None:
        nonlocal finished
        name = event.info.name
        if name != "NodeFinished":
            return
        result = event.data.run_result
        node = event.data.node_info.unique_id
        status = result.status
        elapsed = float(result.execution_time or 0.0)
        node_timings[node] = elapsed
        finished += 1
        if status in ("error", "fail", "runtime error"):
            failures.append(f"{node}: {status}: {(result.message or '').strip()}")
        # models and seeds are reported one by one; passing tests only in the final count
        if progress and not (node.startswith(("test.", "unit_test.")) and status == "pass"):
            progress(f"dbt [{finished:>3}] {status:<7} {node} ({elapsed:.2f}s)")

    args = [
        *command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--quiet",
    ]
    if variables:
        args += ["--vars", json.dumps(variables, default=str)]
    started = time.perf_counter()
    manifest = None
    if reuse_manifest:
        key = (str(DBT_PROJECT_DIR), target, warehouse.stem if warehouse else None)
        manifest = _parsed_manifest(dbtRunner, key)
    elif (
        target == "duckdb"
        and command[:1] in (["build"], ["run"])
        and "--target-path" not in command
        and set(variables or {}) <= RUN_VARIABLES
    ):
        manifest = _parse_without_variables(dbtRunner)
    try:
        outcome = dbtRunner(manifest=manifest, callbacks=[on_event]).invoke(args)
    finally:
        release_duckdb()
    seconds = time.perf_counter() - started
    if progress:
        progress(f"dbt {' '.join(command)}: {finished} nodes in {seconds:.1f}s")
    if outcome.exception is not None:
        failures.append(f"dbt raised: {outcome.exception}")
    result = DbtResult(outcome.success, seconds, failures, node_timings)
    if raise_on_failure and not outcome.success:
        detail = "; ".join(failures) or "see dbt_project/logs/dbt.log"
        raise DbtError(f"dbt {' '.join(command)} failed: {detail}")
    return result
