"""What the Airflow DAGs do, kept out of the DAG files (which must stay cheap to import).

One Airflow DAG run of ``main_image_pipeline`` is one pipeline run (run_id = Airflow's run id);
every try of its register task is one *attempt* (a row of ``raw.pipeline_runs``, a new
``invocation_seq``):

    register_attempt -> land_files -> dbt (Cosmos: a task per model, its tests after it) -> publish

Safety rules, enforced here rather than trusted to the scheduler:

* The warehouse is written by one task at a time (a one-slot Airflow pool, see ``Config.pool``;
  DuckDB allows one writing process per file).
* Attempts never interleave: ``register_attempt`` waits while the latest attempt belongs to
  another Airflow run that is still queued or running (two backfill runs, a backfill beside the
  schedule, a rebuild beside a daily run), and every later task first checks that its attempt is
  still the latest one (``AttemptGuard``): the change log must be appended in attempt order.
* The published state never moves back in time: a run's ``as_of`` is its logical date, or the
  ``as_of`` of the latest completed attempt when that is later (a cleared old run re-publishes
  the current state instead of rewinding it). An explicit ``as_of`` param is used as given.
* Publishing is the CLI's path (``pipeline.publish``, i.e. ``exports.publish``): which changes
  a run's export holds, and that a cleared run rewrites nothing, is decided there.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from main_image import fileio, pipeline
from main_image.config import DEFAULT_POOL, ENV_VARS, Config
from main_image.engines import Warehouse
from main_image.exports import EXPORT_FILES, OutputPaths, Published
from main_image.runs import RunParameters, registration, safe_path_component
from main_image.runs import dbt_vars_template as _dbt_vars_template
from main_image.settings import DBT_PROJECT_DIR, DEFAULT_SCORING_VERSION, is_true

__all__ = ["DEFAULT_POOL", "ENV_VARS", "EXPORT_FILES", "Config", "Published", "registration",
           "safe_path_component"]

log = logging.getLogger(__name__)

PIPELINE_DAG_ID = "main_image_pipeline"
REBUILD_DAG_ID = "main_image_full_rebuild"
CONSUMER_DAG_ID = "main_image_export_consumer"
REGISTER_TASK_ID = "register_attempt"
DBT_GROUP_ID = "dbt"

#: Airflow Variables that override the scoring configuration of scheduled runs (no redeploy).
SCORING_VERSION_VARIABLE = "main_image_scoring_version"
TAG_VERSION_PIN_VARIABLE = "main_image_tag_version_pin"
OBIQ_VERSION_PIN_VARIABLE = "main_image_obiq_version_pin"


def export_dir(exports_dir: Path, run_id: str) -> Path:
    return exports_dir / safe_path_component(run_id)


# --- manifest (Cosmos LoadMode.DBT_MANIFEST) ---------------------------------------------------

_PROJECT_INPUTS = ("dbt_project.yml", "models", "macros", "seeds", "tests", "snapshots")


def manifest_is_stale(project_dir: Path, manifest_path: Path) -> bool:
    """True when the manifest is missing or older than a file of the dbt project."""
    if not manifest_path.is_file():
        return True
    built = manifest_path.stat().st_mtime
    for name in _PROJECT_INPUTS:
        root = project_dir / name
        paths = [root] if root.is_file() else root.rglob("*") if root.is_dir() else []
        if any(path.is_file() and path.stat().st_mtime > built for path in paths):
            return True
    return False


def dbt_parse_command(dbt_executable: Path, project_dir: Path = DBT_PROJECT_DIR) -> list[str]:
    """The command that writes <project>/target/manifest.json (no warehouse connection)."""
    return [str(dbt_executable), "parse", "--project-dir", str(project_dir),
            "--profiles-dir", str(project_dir), "--quiet"]


def known_scoring_versions(manifest_path: Path) -> set[str] | None:
    """The scoring versions registered in macros/scoring/scoring_versions.sql, read from the
    manifest (None when it cannot tell)."""
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        macro = manifest["macros"]["macro.main_image.scoring_versions"]["macro_sql"]
    except (OSError, ValueError, KeyError):
        return None
    return set(re.findall(r"['\"]([A-Za-z0-9_.-]+)['\"]\s*:\s*\{", macro)) or None


# --- run parameters ----------------------------------------------------------------------------

ConfigLookup = Callable[[str], str | None]


def _blank_to_none(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text.lower() in ("", "none", "null") else text


def configured_scoring(lookup: ConfigLookup | None = None) -> dict[str, str | None]:
    """The scoring configuration of a run that does not set it: Airflow Variable, else env."""

    def value(variable: str, env_name: str, default: str | None) -> str | None:
        found = _blank_to_none(lookup(variable)) if lookup else None
        return found or _blank_to_none(os.environ.get(env_name)) or default

    return {
        "scoring_version": value(
            SCORING_VERSION_VARIABLE, "MAIN_IMAGE_SCORING_VERSION", DEFAULT_SCORING_VERSION
        ),
        "tag_version_pin": value(TAG_VERSION_PIN_VARIABLE, "MAIN_IMAGE_TAG_VERSION_PIN", None),
        "obiq_version_pin": value(OBIQ_VERSION_PIN_VARIABLE, "MAIN_IMAGE_OBIQ_VERSION_PIN", None),
    }


def airflow_variable_lookup(name: str) -> str | None:
    """Read an Airflow Variable (None when unset or when no Airflow runtime is around)."""
    try:
        from airflow.sdk import Variable

        return Variable.get(name, default=None)
    except Exception:  # no metadata DB / API reachable: the env decides
        log.debug("Airflow Variable %s not readable", name, exc_info=True)
        return None


def resolve_run_parameters(
    wh: Warehouse,
    run_id: str,
    run_date: date,
    params: Mapping[str, Any],
    lookup: ConfigLookup | None = None,
) -> RunParameters:
    """The parameters of one attempt: DAG params (or dag_run.conf) first, then configuration.

    ``run_date`` is the run's logical date (or, for a run without one, the day it ran after)."""
    scoring = configured_scoring(lookup)
    explicit_as_of = _blank_to_none(params.get("as_of"))
    if explicit_as_of is not None:
        as_of = date.fromisoformat(explicit_as_of)
    else:
        as_of = run_date
        published = wh.latest_completed_as_of()
        if published is not None and published > as_of:
            log.warning(
                "run %s: logical date %s is before the as_of already published (%s); "
                "using %s so that the published state does not move back in time",
                run_id, run_date, published, published,
            )
            as_of = published
    return RunParameters(
        run_id=run_id,
        as_of=as_of,
        scoring_version=_blank_to_none(params.get("scoring_version"))
        or scoring["scoring_version"]
        or DEFAULT_SCORING_VERSION,
        tag_version_pin=_blank_to_none(params.get("tag_version_pin"))
        or scoring["tag_version_pin"],
        obiq_version_pin=_blank_to_none(params.get("obiq_version_pin"))
        or scoring["obiq_version_pin"],
        full_refresh=is_true(params.get("full_refresh")),
        shadow_scoring_version=_blank_to_none(params.get("shadow_scoring_version")),
    )


def dbt_vars_template(register_task_id: str = REGISTER_TASK_ID) -> dict[str, str]:
    """Cosmos ``vars``: each run variable rendered at run time from the register task's XCom."""
    return _dbt_vars_template(register_task_id)


# --- the attempt lifecycle ---------------------------------------------------------------------

RunIsActive = Callable[[str], bool]
LIVE_RUN_STATES = frozenset({"queued", "running"})


def is_live_run_state(state: Any) -> bool:
    """True for a DagRunState (an enum or its value) of a run that is queued or running."""
    return str(getattr(state, "value", state)).lower() in LIVE_RUN_STATES


@dataclass(frozen=True)
class InFlight:
    invocation_seq: int
    run_id: str


def attempt_in_flight(wh: Warehouse, run_id: str, is_active: RunIsActive) -> InFlight | None:
    """The latest attempt, when it belongs to another run that is still queued or running and
    has not exported yet (starting now would interleave two attempts)."""
    latest = wh.latest_attempt()
    if latest is None:
        return None
    seq, other_run, exported_at = latest
    if other_run == run_id or exported_at is not None or not is_active(other_run):
        return None
    return InFlight(int(seq), other_run)


def register_attempt(
    config: Config,
    run_id: str,
    run_date: date,
    params: Mapping[str, Any],
    is_active: RunIsActive,
    lookup: ConfigLookup | None = None,
) -> dict[str, Any] | InFlight:
    """Register a new attempt (a new invocation_seq), unless another run's attempt is in flight."""
    with config.open_warehouse() as wh:
        wh.ensure_raw_layer()  # BigQuery: the raw tables on the first run (terraform: datasets)
        blocker = attempt_in_flight(wh, run_id, is_active)
        if blocker is not None:
            return blocker
        run_params = resolve_run_parameters(wh, run_id, run_date, params, lookup)
        invocation_seq = pipeline.register(wh, run_params)
    log.info("run %s: attempt %s registered (%s)", run_id, invocation_seq, run_params)
    return registration(run_params, invocation_seq)


def land_files(config: Config, run_id: str, invocation_seq: int) -> dict[str, Any]:
    """Land every file of the landing zone (already-loaded content is skipped)."""
    files = config.discover_files()
    with config.open_warehouse() as wh:
        loaded, watermark = pipeline.land(wh, files, run_id, invocation_seq, log.info)
    new = [item for item in loaded if not item.skipped]
    summary = {
        "engine": config.engine,
        "landing": config.landing_location,
        "files_found": len(loaded),
        "files_loaded": len(new),
        "files_skipped": len(loaded) - len(new),
        "lines_loaded": sum(item.line_count for item in new),
        "lines_by_feed": {
            feed: sum(item.line_count for item in new if item.feed == feed)
            for feed in sorted({item.feed for item in new})
        },
        "file_seq_watermark": watermark,
    }
    log.info("run %s attempt %s: landed %s", run_id, invocation_seq, summary)
    return summary


def publish_attempt(config: Config, run_id: str, invocation_seq: int) -> Published:
    """The publish task: ``exports.publish`` into ``<exports>/<run id>/`` (the CLI's path too).

    A reader waits for ``metrics.json`` (or for the publish task's asset event)."""
    outputs = OutputPaths.in_folder(config.export_location(run_id))
    with config.open_warehouse() as wh:
        published = pipeline.publish(wh, run_id, invocation_seq, outputs, log.info,
                                     config.serving_database_url)
    return published


def export_path(config: Config, run_id: str, name: str) -> str:
    """The path or gs:// URI of a run's export file (``name``: changes, snapshot, metrics)."""
    return fileio.join(config.export_location(run_id), EXPORT_FILES[name])


def read_metrics(config: Config, run_id: str) -> dict[str, Any]:
    """The metrics.json a run published (local or on GCS)."""
    return json.loads(fileio.read_text(export_path(config, run_id, "metrics"),
                                       config.storage_client))


# --- guards ------------------------------------------------------------------------------------


class AttemptGuard:
    """``pre_execute`` hook of every task that writes the warehouse after registration.

    * Fault injection for drills and tests: a task whose id matches a pattern of the env var
      MAIN_IMAGE_FAIL_TASKS (comma-separated, fnmatch) fails without retry before doing anything,
      like a worker dying at that point.
    * It fails (without retry) when its attempt is no longer the latest one: another run
      registered in between, so the only safe way on is to clear this run from the start.
    """

    def __init__(self, config: Config, register_task_id: str = REGISTER_TASK_ID) -> None:
        self.config = config
        self.register_task_id = register_task_id

    def __call__(self, context: Mapping[str, Any]) -> None:
        from airflow.sdk.exceptions import AirflowFailException

        task_id = context["ti"].task_id
        for pattern in filter(None, (os.environ.get("MAIN_IMAGE_FAIL_TASKS") or "").split(",")):
            if fnmatch.fnmatchcase(task_id, pattern.strip()):
                raise AirflowFailException(
                    f"fault injection: MAIN_IMAGE_FAIL_TASKS={pattern.strip()!r} matches {task_id}"
                )
        attempt = context["ti"].xcom_pull(task_ids=self.register_task_id)
        if not attempt:
            raise AirflowFailException(f"no registration from {self.register_task_id}")
        if self.config.engine == "duckdb":
            from main_image.dbt_runner import release_duckdb

            release_duckdb()
        with self.config.open_warehouse(read_only=True) as wh:
            latest, latest_run, _ = wh.latest_attempt() or (0, None, None)
        if int(latest) != int(attempt["invocation_seq"]):
            raise AirflowFailException(
                f"attempt {attempt['invocation_seq']} of run {attempt['run_id']} was superseded by "
                f"attempt {latest} of run {latest_run}; clear this run from {self.register_task_id}"
            )


# --- assets ------------------------------------------------------------------------------------

ASSET_NAMES = ("changes", "snapshot", "metrics")


def export_assets() -> dict[str, Any]:
    """The pipeline's outputs as Airflow Assets (outlets of ``publish``; the export consumer DAG
    is scheduled on them). Each asset event's ``extra`` names the run, the attempt and the file."""
    from airflow.sdk import Asset

    return {
        name: Asset(
            name=f"main_image_{name}",
            uri=f"main_image://exports/{name}",
            group="main_image",
        )
        for name in ASSET_NAMES
    }
