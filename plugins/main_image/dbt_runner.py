"""Drive dbt in-process (dbtRunner): no subprocess, one parse per invocation."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from main_image import faults
from main_image.runs import RUN_VARIABLES
from main_image.settings import DBT_PROJECT_DIR, Progress

if TYPE_CHECKING:
    from main_image.engines.bigquery.config import BigQueryConfig


#: What every pipeline build leaves out: dbt's unit tests check the SQL against fixed inputs,
#: not the run's data, so they belong in CI (`make test` runs them once, tests/test_dbt_unit.py)
#: and not in production, as dbt advises. On DuckDB they were about 4 s of a 21 s build.
PIPELINE_BUILD_EXCLUDES: tuple[str, ...] = ("--exclude-resource-type", "unit_test")


class DbtError(RuntimeError):
    """dbt failed: a model errored or a data test failed. Nothing was published."""


@dataclass
class DbtResult:
    success: bool
    seconds: float
    failures: list[str] = field(default_factory=list)
    node_timings: dict[str, float] = field(default_factory=dict)


def dbt_environment(
    warehouse: Path | None, target: str | None, bigquery: BigQueryConfig | None = None
) -> dict[str, str]:
    """The environment variables profiles.yml reads (the CLI sets them in its process, the
    Cosmos tasks get them as ``env_vars``): the DuckDB file and its spill folder, the target,
    and on BigQuery the project, location and dataset prefix (the dbt var ``schema_prefix``
    defaults to it)."""
    env = {
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    if warehouse is not None:
        env["MAIN_IMAGE_WAREHOUSE"] = str(warehouse.resolve())
        env["MAIN_IMAGE_DUCKDB_TEMP_DIR"] = str(warehouse.resolve().parent / "tmp")
    if target is not None:
        env["MAIN_IMAGE_DBT_TARGET"] = target
    if bigquery is not None:
        env.update(bigquery.dbt_env())
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
        outcome = _parse(runner_cls, env_key[0])
        if not outcome.success:
            raise DbtError(f"dbt parse failed: {outcome.exception}")
        manifest = outcome.result
        _MANIFESTS[env_key] = manifest
    return manifest


def _parse(runner_cls: Any, project_dir: str) -> Any:
    """`dbt parse` of the project, without --vars."""
    return runner_cls().invoke(
        ["parse", "--project-dir", project_dir, "--profiles-dir", project_dir, "--quiet"]
    )


def _parse_without_variables(runner_cls: Any) -> Any:
    """`dbt parse` without --vars, with dbt's partial parsing: --vars change every run and
    would make dbt re-parse the whole project (seconds per run); without them, a process that
    follows another with the same project files and profile reuses the target folder's
    partial_parse.msgpack. The run variables (``runs.RUN_VARIABLES``) are used only inside
    model bodies, so a manifest parsed without them serves a run that sets them.
    Returns None when the parse fails (the command then parses itself)."""
    outcome = _parse(runner_cls, str(DBT_PROJECT_DIR))
    return outcome.result if outcome.success else None


def clear_manifest_cache() -> None:
    """Forget parsed manifests (after editing the dbt project in a long-lived process)."""
    _MANIFESTS.clear()


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a command.

    DuckDB allows one writing process per file: the loader, the exports and Airflow tasks
    (Cosmos runs dbt in-process; `airflow dags test` runs every task in one process) must be
    able to open the warehouse as soon as dbt is done. Imports nothing: when dbt-duckdb was not
    loaded in this process there is nothing to release.
    """
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is None:
        return
    manager = connections.DuckDBConnectionManager
    environment = getattr(manager, "_ENV", None)
    if environment is not None and hasattr(environment, "close"):
        environment.close()
    manager.close_all_connections()


@dataclass
class _NodeReporter:
    """dbt's event callback: times every node, keeps failures, reports models and seeds one by
    one (passing tests only in the final count)."""

    progress: Progress | None
    node_timings: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    finished: int = 0

    def __call__(self, event: Any) -> None:
        if event.info.name != "NodeFinished":
            return
        result = event.data.run_result
        node = event.data.node_info.unique_id
        status = result.status
        elapsed = float(result.execution_time or 0.0)
        self.node_timings[node] = elapsed
        self.finished += 1
        if status in ("error", "fail", "runtime error"):
            self.failures.append(f"{node}: {status}: {(result.message or '').strip()}")
        if self.progress and not (node.startswith(("test.", "unit_test.")) and status == "pass"):
            self.progress(f"dbt [{self.finished:>3}] {status:<7} {node} ({elapsed:.2f}s)")
        faults.reached(f"dbt-{self.finished}")


def _manifest_for(
    runner_cls: Any,
    command: list[str],
    variables: dict[str, Any] | None,
    warehouse: Path | None,
    target: str | None,
    reuse_manifest: bool,
) -> Any:
    """A parsed manifest to run with (None: the command parses the project itself)."""
    if reuse_manifest:
        key = (str(DBT_PROJECT_DIR), target, warehouse.stem if warehouse else None)
        return _parsed_manifest(runner_cls, key)
    if (
        target == "duckdb"
        and command[:1] in (["build"], ["run"])
        and "--target-path" not in command
        and set(variables or {}) <= set(RUN_VARIABLES)
    ):
        return _parse_without_variables(runner_cls)
    return None


def run_dbt(
    command: list[str],
    variables: dict[str, Any] | None = None,
    warehouse: Path | None = None,
    target: str | None = None,
    progress: Progress | None = None,
    raise_on_failure: bool = True,
    reuse_manifest: bool = False,
    log: bool = False,
    exclude: Callable[[Any], list[str]] | None = None,
) -> DbtResult:
    """Run one dbt command (e.g. ["build"]) against the project, reporting each node.

    dbt's own console log never goes to stdout (the CLI's stdout carries only the metrics): with
    ``log`` it goes to stderr, otherwise only to dbt_project/logs/dbt.log; failures are reported
    through the raised ``DbtError``. ``exclude`` gives more arguments from the parsed manifest
    (``idle_nodes``); it is not called when the command parses the project itself."""
    from dbt.cli.main import dbtRunner  # heavy import, only when dbt actually runs

    os.environ.update(dbt_environment(warehouse, target))
    reporter = _NodeReporter(progress)
    args = [*command, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
            str(DBT_PROJECT_DIR), *([] if log else ["--log-level", "none"])]  # fmt: skip
    if variables:
        args += ["--vars", json.dumps(variables, default=str)]
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            manifest = _manifest_for(dbtRunner, command, variables, warehouse, target,
                                     reuse_manifest)
            if exclude is not None and manifest is not None:
                args += exclude(manifest)
            outcome = dbtRunner(manifest=manifest, callbacks=[reporter]).invoke(args)
    finally:
        release_duckdb()
    seconds = time.perf_counter() - started
    if progress:
        progress(f"dbt {' '.join(command)}: {reporter.finished} nodes in {seconds:.1f}s")
    if outcome.exception is not None:
        reporter.failures.append(f"dbt raised: {outcome.exception}")
    result = DbtResult(outcome.success, seconds, reporter.failures, reporter.node_timings)
    if raise_on_failure and not outcome.success:
        detail = "; ".join(reporter.failures) or "see dbt_project/logs/dbt.log"
        raise DbtError(f"dbt {' '.join(command)} failed: {detail}")
    return result
