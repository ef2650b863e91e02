"""Drive ``main_image_pipeline``'s task functions the way the DAG does, without a scheduler:

    register_attempt -> AttemptGuard -> land_files -> AttemptGuard -> dbt (the Cosmos group's
    target, env and vars rendered from the register XCom) -> AttemptGuard -> publish_attempt

Shared by the engine-equality test (tests/test_bigquery_emulator.py) and the publication tests
(tests/test_publish.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
import pytest
from main_image import fileio
from main_image import orchestration as orch
from main_image.dbt_runner import PIPELINE_BUILD_EXCLUDES, run_dbt

SCOPE_SQL = "select hotel_id, scope_reason from staging.int_hotels_in_scope order by hotel_id"


class StubTI:
    """The part of Airflow's TaskInstance the guard and the Cosmos vars template read."""

    def __init__(self, task_id: str, registration: dict[str, Any]) -> None:
        self.task_id = task_id
        self.registration = registration

    def xcom_pull(self, task_ids: str) -> dict[str, Any]:
        assert task_ids == orch.REGISTER_TASK_ID
        return self.registration


def guard(config: orch.Config, task_id: str, registration: dict[str, Any]) -> None:
    """The ``pre_execute`` hook of a task after registration."""
    orch.AttemptGuard(config)({"ti": StubTI(task_id, registration)})


def config_from(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> orch.Config:
    """The configuration the DAG files read, from exactly these variables."""
    for name in orch.ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return orch.Config.from_env()


def run_dbt_like_cosmos(config: orch.Config, registration: dict[str, Any],
                        target_path: Path | None = None, tests: bool = True) -> None:
    """What the Cosmos tasks of the `dbt` group run, as one `dbt build`: the profile target and
    env of the DAG's ProfileConfig/ProjectConfig, the vars rendered from the register XCom.
    Without ``target_path`` the process's parsed manifest is reused; ``tests=False`` leaves out
    the data tests too (the unit tests are never in a pipeline build)."""
    ti = StubTI("dbt.build", registration)
    rendered = {name: jinja2.Environment().from_string(template).render(ti=ti)
                for name, template in orch.dbt_vars_template().items()}
    command = ["build", *PIPELINE_BUILD_EXCLUDES]
    if target_path is not None:
        command += ["--target-path", str(target_path)]
    if not tests:
        command += ["--exclude-resource-type", "test"]
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in config.dbt_env().items():
            monkeypatch.setenv(name, value)
        run_dbt(command, variables=rendered,
                warehouse=config.warehouse if config.engine == "duckdb" else None,
                target=config.dbt_target, reuse_manifest=target_path is None)


def run_unit_tests(config: orch.Config, target_path: Path) -> Any:
    """dbt's unit tests with the DAG's target and env, as CI runs them (a pipeline build leaves
    them out); the models must exist, dbt reads their columns. Returns the ``DbtResult``."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in config.dbt_env().items():
            monkeypatch.setenv(name, value)
        return run_dbt(["test", "--select", "test_type:unit", "--target-path", str(target_path)],
                       warehouse=config.warehouse if config.engine == "duckdb" else None,
                       target=config.dbt_target, raise_on_failure=False)


@dataclass
class DagAttempt:
    """One attempt as the DAG ran it: the registration, the land task's summary, the scope dbt
    computed, the export files (None: the attempt died after dbt) and where publish wrote them."""

    registration: dict[str, Any]
    landed: dict[str, Any]
    scope: list[tuple]
    exports: dict[str, Any] | None
    export_location: str | None


def read_exports(config: orch.Config, published: orch.Published) -> dict[str, Any]:
    exports = {}
    for name in orch.EXPORT_FILES:
        text = fileio.read_text(published.path(name), config.storage_client)
        exports[name] = [json.loads(line) for line in text.splitlines()]
    return exports


def run_like_the_dag(config: orch.Config, run_id: str, run_date: date,
                     target_path: Path | None = None, die_after_dbt: bool = False,
                     tests: bool = True, params: dict[str, Any] | None = None) -> DagAttempt:
    """register_attempt -> guard -> land_files -> guard -> dbt -> guard -> publish_attempt
    (``params``: the DAG run's params, e.g. a shadow scoring version)."""
    registration = orch.register_attempt(config, run_id, run_date, params or {},
                                         is_active=lambda _: False)
    assert isinstance(registration, dict), registration
    seq = int(registration["invocation_seq"])
    guard(config, "land_files", registration)
    landed = orch.land_files(config, run_id, seq)
    guard(config, "dbt.fct_main_image_changes.run", registration)
    run_dbt_like_cosmos(config, registration, target_path, tests)
    with config.open_warehouse(read_only=True) as wh:
        scope = wh.fetchall(SCOPE_SQL)
    if die_after_dbt:
        return DagAttempt(registration, landed, scope, None, None)
    guard(config, "publish", registration)
    published = orch.publish_attempt(config, run_id, seq)
    return DagAttempt(registration, landed, scope, read_exports(config, published),
                      published.location)
