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
* A run's ``changes.jsonl`` holds the changes of all its attempts plus those of failed attempts
  nobody exported yet, minus what a later run already exported (so a cleared old run never
  re-delivers changes that later runs delivered or superseded). Files are written under a
  temporary name and renamed, ``metrics.json`` last.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import logging
import os
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from main_image import landing
from main_image.bq_config import BIGQUERY_TARGETS, BigQueryConfig
from main_image.engines import Warehouse, open_warehouse
from main_image.settings import (
    DBT_PROJECT_DIR,
    DEFAULT_EXPORTS_DIR,
    DEFAULT_SCORING_VERSION,
    DEFAULT_WAREHOUSE,
    PROJECT_ROOT,
)
from main_image.warehouse import RunParameters

log = logging.getLogger(__name__)

PIPELINE_DAG_ID = "main_image_pipeline"
REBUILD_DAG_ID = "main_image_full_rebuild"
CONSUMER_DAG_ID = "main_image_export_consumer"
REGISTER_TASK_ID = "register_attempt"
DBT_GROUP_ID = "dbt"
DEFAULT_POOL = "main_image_duckdb"

#: Airflow Variables that override the scoring configuration of scheduled runs (no redeploy).
SCORING_VERSION_VARIABLE = "main_image_scoring_version"
TAG_VERSION_PIN_VARIABLE = "main_image_tag_version_pin"
OBIQ_VERSION_PIN_VARIABLE = "main_image_obiq_version_pin"

#: Every environment variable the DAGs read, with its default (documented in docs/airflow.md).
ENV_VARS: dict[str, str] = {
    "MAIN_IMAGE_WAREHOUSE": "<repo>/warehouse/main_image.duckdb",
    "MAIN_IMAGE_LANDING_DIR": "<repo>/landing",
    "MAIN_IMAGE_EXPORTS_DIR": "<repo>/exports",
    "MAIN_IMAGE_LANDING_URI": "",
    "MAIN_IMAGE_EXPORTS_URI": "",
    "MAIN_IMAGE_SCHEDULE": "@daily",
    "MAIN_IMAGE_START_DATE": "2024-07-01",
    "MAIN_IMAGE_CATCHUP": "false",
    "MAIN_IMAGE_DBT_TARGET": "duckdb",
    "MAIN_IMAGE_DBT_PROJECT_DIR": "<repo>/dbt_project",
    "MAIN_IMAGE_DBT_MANIFEST": "<repo>/dbt_project/target/manifest.json",
    "MAIN_IMAGE_POOL": DEFAULT_POOL,
    "MAIN_IMAGE_RETRIES": "2",
    "MAIN_IMAGE_RETRY_DELAY_SECONDS": "300",
    "MAIN_IMAGE_SCORING_VERSION": DEFAULT_SCORING_VERSION,
    "MAIN_IMAGE_TAG_VERSION_PIN": "",
    "MAIN_IMAGE_OBIQ_VERSION_PIN": "",
    "MAIN_IMAGE_FAIL_TASKS": "",
    # BigQuery targets only (docs/bigquery.md; terraform sets them in Composer)
    "MAIN_IMAGE_GCP_PROJECT": "",
    "MAIN_IMAGE_BQ_LOCATION": "EU",
    "MAIN_IMAGE_DBT_SCHEMA_PREFIX": "",
    "MAIN_IMAGE_BQ_RAW_REQUIRE_PARTITION_FILTER": "false",
    "MAIN_IMAGE_BQ_EMULATOR_ENDPOINT": "http://127.0.0.1:9050",
    "MAIN_IMAGE_BQ_EMULATOR_PROJECT": "main-image-local",
}

_TRUE = {"1", "true", "yes", "on"}
_NO_SCHEDULE = {"", "none", "null", "manual"}


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value is not None and value.strip() else None


def _env_path(name: str, default: Path) -> Path:
    value = _env(name)
    if value is None:
        return default
    path = Path(value).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def _gcs_uri(name: str) -> str | None:
    value = _env(name)
    if value is not None and not value.startswith("gs://"):
        raise ValueError(f"{name} must be a gs://bucket[/prefix] URI, not {value!r}")
    return value.rstrip("/") if value else None


@dataclass(frozen=True)
class Config:
    """The DAGs' configuration, from environment variables (see ENV_VARS).

    The engine follows the dbt target: ``duckdb`` uses the file ``warehouse``; ``bigquery`` and
    ``bq_emulator`` use ``bigquery`` (project, location, dataset prefix from the environment,
    see ``BigQueryConfig.from_env``) and may land from and export to GCS (``landing_uri``,
    ``exports_uri``; unset: the local folders)."""

    warehouse: Path
    landing_dir: Path
    exports_dir: Path
    schedule: str | None
    start_date: datetime
    catchup: bool
    dbt_target: str
    dbt_project_dir: Path
    manifest_path: Path
    pool: str
    retries: int
    retry_delay: timedelta
    landing_uri: str | None = None
    exports_uri: str | None = None
    bigquery: BigQueryConfig | None = None
    #: GCS client for gs:// landing files and exports; None: google.cloud.storage.Client()
    #: (Application Default Credentials) when first needed. Tests pass a stand-in.
    storage_client: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_env(cls) -> Config:
        schedule = _env("MAIN_IMAGE_SCHEDULE")
        start = date.fromisoformat(_env("MAIN_IMAGE_START_DATE") or "2024-07-01")
        target = _env("MAIN_IMAGE_DBT_TARGET") or "duckdb"
        bigquery = BigQueryConfig.from_env() if target in BIGQUERY_TARGETS else None
        landing_uri = _gcs_uri("MAIN_IMAGE_LANDING_URI")
        exports_uri = _gcs_uri("MAIN_IMAGE_EXPORTS_URI")
        if bigquery is None and (landing_uri or exports_uri):
            raise ValueError(
                "MAIN_IMAGE_LANDING_URI / MAIN_IMAGE_EXPORTS_URI (gs://) need a BigQuery target "
                f"(MAIN_IMAGE_DBT_TARGET=bigquery), not {target!r}: the DuckDB warehouse lands "
                "from MAIN_IMAGE_LANDING_DIR and exports to MAIN_IMAGE_EXPORTS_DIR"
            )
        dbt_project_dir = _env_path("MAIN_IMAGE_DBT_PROJECT_DIR", DBT_PROJECT_DIR)
        return cls(
            warehouse=_env_path("MAIN_IMAGE_WAREHOUSE", DEFAULT_WAREHOUSE),
            landing_dir=landing.default_landing_dir(),
            exports_dir=_env_path("MAIN_IMAGE_EXPORTS_DIR", DEFAULT_EXPORTS_DIR),
            landing_uri=landing_uri,
            exports_uri=exports_uri,
            bigquery=bigquery,
            schedule=(
                "@daily" if schedule is None
                else None if schedule.lower() in _NO_SCHEDULE
                else schedule
            ),
            start_date=datetime(start.year, start.month, start.day),
            catchup=(_env("MAIN_IMAGE_CATCHUP") or "false").lower() in _TRUE,
            dbt_target=target,
            dbt_project_dir=dbt_project_dir,
            manifest_path=_env_path(
                "MAIN_IMAGE_DBT_MANIFEST", dbt_project_dir / "target" / "manifest.json"
            ),
            pool=_env("MAIN_IMAGE_POOL") or DEFAULT_POOL,
            retries=int(_env("MAIN_IMAGE_RETRIES") or 2),
            retry_delay=timedelta(seconds=int(_env("MAIN_IMAGE_RETRY_DELAY_SECONDS") or 300)),
        )

    @property
    def engine(self) -> str:
        """``duckdb`` or ``bigquery`` (the emulator included)."""
        return "duckdb" if self.bigquery is None else "bigquery"

    @property
    def landing_location(self) -> str:
        return self.landing_uri or str(self.landing_dir)

    def dbt_env(self) -> dict[str, str]:
        """The environment the dbt tasks run with (profiles.yml reads it; on BigQuery also the
        dataset prefix, which the dbt var ``schema_prefix`` defaults to)."""
        env = {
            "MAIN_IMAGE_WAREHOUSE": str(self.warehouse),
            "MAIN_IMAGE_DUCKDB_TEMP_DIR": str(self.warehouse.parent / "tmp"),
            "MAIN_IMAGE_DBT_TARGET": self.dbt_target,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        }
        if self.bigquery is not None:
            env.update(self.bigquery.dbt_env())
        return env

    def open_warehouse(self, read_only: bool = False) -> Any:
        """``with config.open_warehouse() as wh:`` the configured ``engines.Warehouse``."""
        return open_warehouse(self.warehouse, self.bigquery, read_only, self.storage_client)

    def discover_files(self) -> dict[str, list[Any]]:
        """Every landing file of every feed, in landing order: gs:// URIs or local paths."""
        if self.landing_uri:
            from main_image.bigquery import discover_gcs_files

            return discover_gcs_files(self.landing_uri, self.storage_client)
        return landing.discover_files(self.landing_dir)

    def export_location(self, run_id: str) -> str:
        """Where a run's files go: ``<exports>/<run id as a folder name>`` (gs:// or local)."""
        if self.exports_uri:
            return f"{self.exports_uri}/{safe_path_component(run_id)}"
        return str(export_dir(self.exports_dir, run_id))


def safe_path_component(run_id: str) -> str:
    """A run id as a folder name: anything but letters, digits, '.', '_', '-' becomes '-'.

    ``manual__2024-07-01T00:00:00+00:00`` -> ``manual__2024-07-01T00-00-00-00-00``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", run_id).strip(".")
    return cleaned or "run"


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


def latest_completed_as_of(wh: Warehouse) -> date | None:
    return wh.scalar(
        "select as_of from raw.pipeline_runs where selection_completed_at is not null "
        "order by invocation_seq desc limit 1",
    )


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
        published = latest_completed_as_of(wh)
        if published is not None and published > as_of:
            log.warning(
                "run %s: logical date %s is before the as_of already published (%s); "
                "using %s so that the published state does not move back in time",
                run_id, run_date, published, published,
            )
            as_of = published
    full_refresh = params.get("full_refresh")
    if isinstance(full_refresh, str):
        full_refresh = full_refresh.strip().lower() in _TRUE
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
        full_refresh=bool(full_refresh),
        shadow_scoring_version=_blank_to_none(params.get("shadow_scoring_version")),
    )


def registration(params: RunParameters, invocation_seq: int) -> dict[str, Any]:
    """The register task's XCom: the dbt vars of the attempt (JSON-friendly)."""
    values = asdict(params)
    values["as_of"] = params.as_of.isoformat()
    values["invocation_seq"] = invocation_seq
    return values


def dbt_vars_template(register_task_id: str = REGISTER_TASK_ID) -> dict[str, str]:
    """Cosmos ``vars``: each var rendered at run time from the register task's XCom."""
    pull = f"ti.xcom_pull(task_ids='{register_task_id}')"
    return {
        "run_id": "{{ " + pull + "['run_id'] }}",
        "invocation_seq": "{{ " + pull + "['invocation_seq'] }}",
        "as_of": "{{ " + pull + "['as_of'] }}",
        "full_refresh": "{{ " + pull + "['full_refresh'] | lower }}",
        "scoring_version": "{{ " + pull + "['scoring_version'] }}",
        "tag_version_pin": "{{ " + pull + "['tag_version_pin'] or '' }}",
        "obiq_version_pin": "{{ " + pull + "['obiq_version_pin'] or '' }}",
        "shadow_scoring_version": "{{ " + pull + "['shadow_scoring_version'] or '' }}",
    }


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
    rows = wh.fetchall(
        "select invocation_seq, run_id, exported_at from raw.pipeline_runs "
        "order by invocation_seq desc limit 1"
    )
    if not rows:
        return None
    seq, other_run, exported_at = rows[0]
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
        invocation_seq = wh.start_invocation(run_params)
    log.info("run %s: attempt %s registered (%s)", run_id, invocation_seq, run_params)
    return registration(run_params, invocation_seq)


def land_files(config: Config, run_id: str, invocation_seq: int) -> dict[str, Any]:
    """Land every file of the landing zone (already-loaded content is skipped)."""
    files = config.discover_files()
    with config.open_warehouse() as wh:
        loaded = wh.load_feeds(files, run_id, invocation_seq, log.info)
        watermark = wh.record_watermark(invocation_seq)
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


EXPORT_FILES = {"changes": "changes.jsonl", "snapshot": "snapshot.jsonl",
                "metrics": "metrics.json"}


@dataclass(frozen=True)
class Published:
    location: str  # the run's export folder: a local path or gs://bucket/prefix/<run>
    changes: int
    changes_this_attempt: int
    snapshot: int
    metrics: dict[str, Any]

    def path(self, name: str) -> str:
        return f"{self.location}/{EXPORT_FILES[name]}"

    def asset_extra(self, run_id: str, invocation_seq: int, name: str) -> dict[str, Any]:
        return {
            "run_id": run_id,
            "invocation_seq": invocation_seq,
            "as_of": self.metrics.get("as_of"),
            "path": self.path(name),
            "records": {"changes": self.changes, "snapshot": self.snapshot}.get(name),
            "changes_this_attempt": self.changes_this_attempt,
        }


def _write_exports(
    wh: Warehouse, config: Config, run_id: str, invocation_seq: int, target: str
) -> Published:
    """changes, snapshot, metrics (last) under ``target`` (a local folder or a gs:// prefix)."""
    from main_image.bigquery import write_metrics

    # changes up to here were exported by a later run (this run is being re-run)
    exported_by_others = wh.scalar(
        "select coalesce(max(invocation_seq), 0) from raw.pipeline_runs "
        "where exported_at is not null and run_id <> ? and invocation_seq < ?",
        [run_id, invocation_seq],
    )
    changes = wh.export_changes(
        f"{target}/{EXPORT_FILES['changes']}", run_id, invocation_seq, int(exported_by_others)
    )
    this_attempt = wh.scalar(
        "select count(*) from marts.fct_main_image_changes where invocation_seq = ?",
        [invocation_seq],
    )
    snapshot = wh.export_snapshot(f"{target}/{EXPORT_FILES['snapshot']}")
    metrics = wh.run_metrics(run_id)
    write_metrics(metrics, f"{target}/{EXPORT_FILES['metrics']}", config.storage_client)
    return Published(target, changes, int(this_attempt), snapshot, metrics)


def publish_attempt(config: Config, run_id: str, invocation_seq: int) -> Published:
    """Mark the selection completed, then write changes / snapshot / metrics and mark exported.

    Local exports are written to ``<run>/.attempt-<seq>/`` and renamed into ``<run>/``,
    ``metrics.json`` last; on GCS each object appears whole when written, ``metrics.json``
    last too. A reader waits for ``metrics.json`` (or for the publish task's asset event)."""
    location = config.export_location(run_id)
    with config.open_warehouse() as wh:
        wh.mark_selection_completed(invocation_seq)
        if location.startswith("gs://"):
            published = _write_exports(wh, config, run_id, invocation_seq, location)
        else:
            directory = Path(location)
            for leftover in directory.glob(".attempt-*"):  # an attempt that died mid-export
                shutil.rmtree(leftover, ignore_errors=True)
            staging = directory / f".attempt-{invocation_seq}"
            staging.mkdir(parents=True)
            written = _write_exports(wh, config, run_id, invocation_seq, str(staging))
            for name in EXPORT_FILES.values():
                (staging / name).replace(directory / name)
            staging.rmdir()
            published = dataclasses.replace(written, location=location)
        wh.mark_exported(invocation_seq)
    log.info("run %s attempt %s: %s changes (%s new in this attempt), %s main images -> %s",
             run_id, invocation_seq, published.changes, published.changes_this_attempt,
             published.snapshot, location)
    return published


def export_path(config: Config, run_id: str, name: str) -> str:
    """The path or gs:// URI of a run's export file (``name``: changes, snapshot, metrics)."""
    return f"{config.export_location(run_id)}/{EXPORT_FILES[name]}"


def read_metrics(config: Config, run_id: str) -> dict[str, Any]:
    """The metrics.json a run published (local or on GCS)."""
    from main_image.bigquery import open_source

    with open_source(export_path(config, run_id, "metrics"), config.storage_client) as handle:
        return json.loads(handle.read().decode("utf-8"))


# --- guards ------------------------------------------------------------------------------------


def _release_dbt_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb may keep open in this process (Cosmos runs dbt
    in-process; `airflow dags test` runs every task in one process). Imports nothing: when
    dbt-duckdb was not loaded in this process there is nothing to release."""
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is None:
        return
    manager = connections.DuckDBConnectionManager
    environment = getattr(manager, "_ENV", None)
    if environment is not None and hasattr(environment, "close"):
        environment.close()
    manager.close_all_connections()


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
            _release_dbt_duckdb()
        with self.config.open_warehouse(read_only=True) as wh:
            latest, latest_run = wh.fetchall(
                "select invocation_seq, run_id from raw.pipeline_runs "
                "order by invocation_seq desc limit 1"
            )[0]
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
