"""The typed configuration of the DAGs, from environment variables, and the one list of every
environment variable the code and profiles.yml read (``ENV_VARS``; docs/configuration.md is
generated from it: ``python -m main_image.config > docs/configuration.md``).

Cheap to import (the DAG files read it at parse time): no warehouse client is imported here.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from main_image import fileio, landing
from main_image.engines.bigquery.config import BIGQUERY_TARGETS, BigQueryConfig
from main_image.runs import safe_path_component
from main_image.settings import (
    DBT_PROJECT_DIR,
    DEFAULT_EXPORTS_DIR,
    DEFAULT_SCORING_VERSION,
    DEFAULT_WAREHOUSE,
    PROJECT_ROOT,
    is_true,
)

DEFAULT_POOL = "main_image_duckdb"


class EnvVar(NamedTuple):
    default: str
    meaning: str


#: Every environment variable the package, the DAGs and dbt_project/profiles.yml read.
ENV_VARS: dict[str, EnvVar] = {
    "MAIN_IMAGE_HOME": EnvVar("<repo>", "the project root the default paths are relative to"),
    "MAIN_IMAGE_WAREHOUSE": EnvVar("<repo>/warehouse/main_image.duckdb", "the DuckDB file"),
    "MAIN_IMAGE_LANDING_DIR": EnvVar("<repo>/landing", "landing zone, one folder per feed"),
    "MAIN_IMAGE_EXPORTS_DIR": EnvVar("<repo>/exports", "`<run id>/changes.jsonl`, "
                                     "`snapshot.jsonl`, `metrics.json`"),
    "MAIN_IMAGE_LANDING_URI": EnvVar("", "BigQuery targets only: `gs://bucket[/prefix]` to "
                                     "land from instead of the landing folder"),
    "MAIN_IMAGE_EXPORTS_URI": EnvVar("", "BigQuery targets only: `gs://bucket[/prefix]` to "
                                     "export to instead of the exports folder"),
    "MAIN_IMAGE_SCHEDULE": EnvVar("@daily", "cron or preset; `none` = manual only"),
    "MAIN_IMAGE_START_DATE": EnvVar("2024-07-01", "the DAG's start date"),
    "MAIN_IMAGE_END_DATE": EnvVar("", "the DAG's end date (YYYY-MM-DD): no scheduled run "
                                  "after it; empty = none"),
    "MAIN_IMAGE_CATCHUP": EnvVar("false", "one run per missed interval"),
    "MAIN_IMAGE_DBT_TARGET": EnvVar("duckdb", "the profiles.yml target and the warehouse every "
                                    "task uses: `duckdb`, `bigquery` or `bq_emulator`"),
    "MAIN_IMAGE_DBT_PROJECT_DIR": EnvVar("<repo>/dbt_project", "the dbt project"),
    "MAIN_IMAGE_DBT_MANIFEST": EnvVar("<repo>/dbt_project/target/manifest.json",
                                      "the manifest Cosmos renders the task group from"),
    "MAIN_IMAGE_DBT_THREADS": EnvVar("4", "dbt threads on BigQuery"),
    "MAIN_IMAGE_POOL": EnvVar(DEFAULT_POOL, "the one-slot pool of the warehouse writers"),
    "MAIN_IMAGE_RETRIES": EnvVar("2", "task retries"),
    "MAIN_IMAGE_RETRY_DELAY_SECONDS": EnvVar("300", "delay between task retries"),
    "MAIN_IMAGE_SCORING_VERSION": EnvVar(DEFAULT_SCORING_VERSION, "scoring version of runs "
                                         "that do not set one (a Variable overrides it)"),
    "MAIN_IMAGE_TAG_VERSION_PIN": EnvVar("", "pinned tag model version (a Variable overrides)"),
    "MAIN_IMAGE_OBIQ_VERSION_PIN": EnvVar("", "pinned obiq version (a Variable overrides)"),
    "MAIN_IMAGE_FAIL_TASKS": EnvVar("", "failure drills and tests only: task-id patterns "
                                    "(comma-separated, fnmatch) that fail at once"),
    "MAIN_IMAGE_FAULT_AT": EnvVar("", "failure drills and tests only: `<point>[:exit|raise|"
                                  "pause=<s>]` stops a run at a named point (main_image/faults.py: "
                                  "`land-<n>`, `landed`, `dbt-<n>`, `selected`, "
                                  "`export-written-<file>`, `export-renamed-<file>`)"),
    "MAIN_IMAGE_ALWAYS_TRANSFORM": EnvVar("false", "`main-image run`: run dbt even when no file "
                                          "landed and no ranking can move, and build every "
                                          "node, those of idle feeds included (main_image/"
                                          "transform_skip.py, idle_nodes.py; the DAG always "
                                          "runs every dbt node)"),
    "MAIN_IMAGE_DUCKDB_MEMORY_LIMIT": EnvVar("8GB", "DuckDB memory limit (loader, exports, dbt)"),
    "MAIN_IMAGE_DUCKDB_THREADS": EnvVar("2", "DuckDB threads"),
    "MAIN_IMAGE_DUCKDB_TEMP_DIR": EnvVar("<warehouse folder>/tmp", "DuckDB spill folder"),
    "MAIN_IMAGE_RAW_COMPRESSION": EnvVar("uncompressed", "storage of the raw lines: "
                                         "`uncompressed` (fast) or `auto` (compact)"),
    "MAIN_IMAGE_GCP_PROJECT": EnvVar("", "BigQuery: the GCP project"),
    "MAIN_IMAGE_BQ_LOCATION": EnvVar("EU", "BigQuery: the location of the datasets"),
    "MAIN_IMAGE_DBT_SCHEMA_PREFIX": EnvVar("", "BigQuery: prefix of the four datasets"),
    "MAIN_IMAGE_BQ_RAW_REQUIRE_PARTITION_FILTER": EnvVar(
        "false", "BigQuery: raw tables refuse queries without a partition filter"),
    "MAIN_IMAGE_BQ_AUTH_METHOD": EnvVar("oauth", "BigQuery (dbt): `oauth` or `service-account`"),
    "MAIN_IMAGE_BQ_KEYFILE": EnvVar("", "BigQuery (dbt): key file of `service-account`"),
    "MAIN_IMAGE_BQ_IMPERSONATE_SERVICE_ACCOUNT": EnvVar("", "BigQuery (dbt): SA to impersonate"),
    "MAIN_IMAGE_BQ_EXECUTION_PROJECT": EnvVar("<MAIN_IMAGE_GCP_PROJECT>",
                                              "BigQuery (dbt): the project jobs run and bill in"),
    "MAIN_IMAGE_BQ_PRIORITY": EnvVar("interactive", "BigQuery (dbt): `interactive` or `batch`"),
    "MAIN_IMAGE_BQ_MAXIMUM_BYTES_BILLED": EnvVar("1000000000000",
                                                 "BigQuery (dbt): bytes billed per query, max"),
    "MAIN_IMAGE_BQ_JOB_TIMEOUT_SECONDS": EnvVar("3600", "BigQuery (dbt): job timeout"),
    "MAIN_IMAGE_BQ_EMULATOR_ENDPOINT": EnvVar("http://127.0.0.1:9050",
                                              "`bq_emulator` target: the emulator's endpoint"),
    "MAIN_IMAGE_BQ_EMULATOR_PROJECT": EnvVar("main-image-local",
                                             "`bq_emulator` target: its project"),
    "MAIN_IMAGE_BQ_PYTHON_SUBMISSION_METHOD": EnvVar("bigframes", "BigQuery (dbt): how Python "
                                                     "models run: `bigframes` or `serverless` "
                                                     "(Dataproc), docs/scoring.md"),
    "MAIN_IMAGE_BQ_PYTHON_BUCKET": EnvVar("", "BigQuery (dbt): staging bucket of Python models"),
    "MAIN_IMAGE_BQ_PYTHON_REGION": EnvVar("europe-west1", "BigQuery (dbt): region of Python "
                                          "models' compute"),
    # The analysts' dashboard (main_image/dashboard; `main-image dashboard`)
    "MAIN_IMAGE_DASHBOARD_CACHE_SECONDS": EnvVar("60", "dashboard: how long a query's result "
                                                 "is reused"),
    # The image service (main_image/service/settings.py; `main-image serve`)
    "MAIN_IMAGE_ENV": EnvVar("production", "service: `production` refuses to start without its "
                             "secrets; `development` (make serve) generates them"),
    "MAIN_IMAGE_ADMIN_TOKEN": EnvVar("", "service: the admin bearer token (secret, required)"),
    "MAIN_IMAGE_FRONTEND_TOKEN": EnvVar("", "service: the read-only frontend bearer token "
                                        "(secret, required)"),
    "MAIN_IMAGE_LINK_SECRET": EnvVar("", "service: the HMAC key that signs upload links "
                                     "(secret, required)"),
    "MAIN_IMAGE_PUBLIC_BASE_URL": EnvVar("http://127.0.0.1:8000", "service: the base of "
                                         "`cdn_url` and `upload_url`"),
    "MAIN_IMAGE_DATABASE_URL": EnvVar("sqlite:///<repo>/service/service.db",
                                      "service: SQLAlchemy URL of its database, also the "
                                      "serving copy that publication updates; the pipeline "
                                      "(`run --database-url`, the publish task) updates it "
                                      "only when set"),
    "MAIN_IMAGE_BLOB_URI": EnvVar("<repo>/service/blobs", "service: image bytes, a folder or "
                                  "`gs://bucket[/prefix]`"),
    "MAIN_IMAGE_MAX_FILE_BYTES": EnvVar("20971520", "service: size limit of one uploaded file"),
    "MAIN_IMAGE_MAX_REQUEST_BYTES": EnvVar("104857600", "service: size limit of one upload "
                                           "request"),
    "MAIN_IMAGE_MAX_IMAGE_PIXELS": EnvVar("50000000", "service: decompression-bomb guard"),
    "MAIN_IMAGE_IMAGE_ID_MIN": EnvVar("2000000000000", "service: first image id it allocates"),
    "MAIN_IMAGE_IMAGE_ID_MAX": EnvVar("2999999999999", "service: last image id it allocates"),
    "MAIN_IMAGE_AUTO_MIGRATE": EnvVar("1", "service: run the Alembic migrations at start"),
    # The stream lander (main_image/stream/config.py; `main-image stream`, the DAG task)
    "MAIN_IMAGE_KAFKA_BOOTSTRAP_SERVERS": EnvVar("", "stream: `host:port[,...]`; unset = no "
                                                 "stream (the drain task does nothing)"),
    "MAIN_IMAGE_KAFKA_TOPICS": EnvVar("images", "stream: comma-separated topics"),
    "MAIN_IMAGE_KAFKA_GROUP_ID": EnvVar("main-image-lander", "stream: the consumer group"),
    "MAIN_IMAGE_KAFKA_FLUSH_MESSAGES": EnvVar("10000", "stream: messages per landed file at most"),
    "MAIN_IMAGE_KAFKA_SECURITY_PROTOCOL": EnvVar("", "stream: e.g. `SASL_SSL` (managed Kafka)"),
    "MAIN_IMAGE_KAFKA_SASL_MECHANISM": EnvVar("", "stream: e.g. `PLAIN`, `OAUTHBEARER`"),
    "MAIN_IMAGE_KAFKA_SASL_USERNAME": EnvVar("", "stream: SASL user"),
    "MAIN_IMAGE_KAFKA_SASL_PASSWORD": EnvVar("", "stream: SASL password (secret)"),
    "MAIN_IMAGE_STREAM_DRAIN_SCHEDULE": EnvVar("*/15 * * * *", "stream: schedule of the "
                                               "drain-only DAG"),
}

_NO_SCHEDULE = {"", "none", "null", "manual"}


def env(name: str) -> str | None:
    """The variable's value, stripped; None when unset or blank."""
    value = os.environ.get(name)
    return value.strip() if value is not None and value.strip() else None


def env_path(name: str, default: Path) -> Path:
    """A path variable; relative paths are relative to the project root."""
    value = env(name)
    if value is None:
        return default
    path = Path(value).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def _gcs_uri(name: str) -> str | None:
    value = env(name)
    if value is not None and not fileio.is_gcs_uri(value):
        raise ValueError(f"{name} must be a gs://bucket[/prefix] URI, not {value!r}")
    return value.rstrip("/") if value else None


def _schedule(value: str | None) -> str | None:
    if value is None:
        return "@daily"
    return None if value.lower() in _NO_SCHEDULE else value


@dataclass(frozen=True)
class Config:
    """The DAGs' configuration (see ENV_VARS).

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
    end_date: datetime | None = None
    #: the image service's database: the publish task updates its serving copy; None: no copy
    serving_database_url: str | None = None
    #: GCS client for gs:// landing files and exports; None: google.cloud.storage.Client()
    #: (Application Default Credentials) when first needed. Tests pass a stand-in.
    storage_client: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_env(cls) -> Config:
        start = date.fromisoformat(env("MAIN_IMAGE_START_DATE") or "2024-07-01")
        end = env("MAIN_IMAGE_END_DATE")
        target = env("MAIN_IMAGE_DBT_TARGET") or "duckdb"
        bigquery = BigQueryConfig.from_env() if target in BIGQUERY_TARGETS else None
        landing_uri, exports_uri = _gcs_uri("MAIN_IMAGE_LANDING_URI"), _gcs_uri(
            "MAIN_IMAGE_EXPORTS_URI")
        if bigquery is None and (landing_uri or exports_uri):
            raise ValueError(
                "MAIN_IMAGE_LANDING_URI / MAIN_IMAGE_EXPORTS_URI (gs://) need a BigQuery target "
                f"(MAIN_IMAGE_DBT_TARGET=bigquery), not {target!r}: the DuckDB warehouse lands "
                "from MAIN_IMAGE_LANDING_DIR and exports to MAIN_IMAGE_EXPORTS_DIR"
            )
        dbt_project_dir = env_path("MAIN_IMAGE_DBT_PROJECT_DIR", DBT_PROJECT_DIR)
        return cls(
            warehouse=env_path("MAIN_IMAGE_WAREHOUSE", DEFAULT_WAREHOUSE),
            landing_dir=landing.default_landing_dir(),
            exports_dir=env_path("MAIN_IMAGE_EXPORTS_DIR", DEFAULT_EXPORTS_DIR),
            landing_uri=landing_uri,
            exports_uri=exports_uri,
            bigquery=bigquery,
            schedule=_schedule(env("MAIN_IMAGE_SCHEDULE")),
            start_date=datetime(start.year, start.month, start.day),
            end_date=datetime.fromisoformat(end) if end else None,
            serving_database_url=env("MAIN_IMAGE_DATABASE_URL") or None,
            catchup=is_true(env("MAIN_IMAGE_CATCHUP")),
            dbt_target=target,
            dbt_project_dir=dbt_project_dir,
            manifest_path=env_path(
                "MAIN_IMAGE_DBT_MANIFEST", dbt_project_dir / "target" / "manifest.json"
            ),
            pool=env("MAIN_IMAGE_POOL") or DEFAULT_POOL,
            retries=int(env("MAIN_IMAGE_RETRIES") or 2),
            retry_delay=timedelta(seconds=int(env("MAIN_IMAGE_RETRY_DELAY_SECONDS") or 300)),
        )

    @property
    def engine(self) -> str:
        """``duckdb`` or ``bigquery`` (the emulator included)."""
        return "duckdb" if self.bigquery is None else "bigquery"

    @property
    def landing_location(self) -> str:
        return self.landing_uri or str(self.landing_dir)

    def dbt_env(self) -> dict[str, str]:
        """The environment the dbt tasks run with (see ``dbt_runner.dbt_environment``)."""
        from main_image.dbt_runner import dbt_environment

        env = dbt_environment(self.warehouse, self.dbt_target, self.bigquery)
        # Cosmos passes the profile (ProfileConfig) and the project (dbt_project_dir) itself
        env.pop("DBT_PROFILES_DIR")
        return env

    def open_warehouse(self, read_only: bool = False) -> Any:
        """``with config.open_warehouse() as wh:`` the configured ``engines.Warehouse``."""
        from main_image.engines import open_warehouse

        return open_warehouse(self.warehouse, self.bigquery, read_only, self.storage_client)

    def discover_files(self) -> dict[str, list[Any]]:
        """Every landing file of every feed, in landing order: gs:// URIs or local paths."""
        if self.landing_uri:
            return landing.discover_files(self.landing_uri, self.storage_client)
        return landing.discover_files(self.landing_dir)

    def export_location(self, run_id: str) -> str:
        """Where a run's files go: ``<exports>/<run id as a folder name>`` (gs:// or local)."""
        if self.exports_uri:
            return f"{self.exports_uri}/{safe_path_component(run_id)}"
        return str(self.exports_dir / safe_path_component(run_id))


def markdown_table() -> str:
    """docs/configuration.md's table of ENV_VARS."""
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, (default, meaning) in ENV_VARS.items():
        lines.append(f"| `{name}` | {f'`{default}`' if default else 'none'} | {meaning} |")
    return "\n".join(lines) + "\n"


DOC_HEADER = """# Configuration

Every environment variable the pipeline reads (the CLI, the DAGs, dbt's profiles.yml). Generated
from `main_image.config.ENV_VARS` by `python -m main_image.config > docs/configuration.md`; a
test keeps the two equal.

"""

if __name__ == "__main__":
    sys.stdout.write(DOC_HEADER + markdown_table())
