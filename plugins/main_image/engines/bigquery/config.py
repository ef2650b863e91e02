"""Where the BigQuery warehouse lives: project, location, dataset prefix, dbt target.

Kept apart from ``engines.bigquery.warehouse`` (the loader, the registry, the exports) so the
DAG files can read the configuration at parse time without importing DuckDB, pyarrow or the
Google client libraries.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from main_image.settings import TRUE_STRINGS

LAYERS = ("raw", "staging", "marts", "reporting")
DEFAULT_LOCATION = "EU"
EMULATOR_TARGET = "bq_emulator"
PRODUCTION_TARGET = "bigquery"
#: The dbt targets that run on BigQuery (the others, i.e. `duckdb`, on the embedded file).
BIGQUERY_TARGETS = frozenset({PRODUCTION_TARGET, EMULATOR_TARGET})


def _env(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = env.get(name)
    return value.strip() if value and value.strip() else default


@dataclass(frozen=True)
class BigQueryConfig:
    """Where the warehouse lives. Production values come from the Composer environment
    variables terraform sets (``from_env``); nothing secret is configured here: credentials are
    Application Default Credentials (or the emulator's anonymous access)."""

    project: str
    location: str = DEFAULT_LOCATION
    dataset_prefix: str = ""
    dbt_target: str = PRODUCTION_TARGET
    api_endpoint: str | None = None  # the emulator's http://127.0.0.1:<port>; None = Google
    raw_require_partition_filter: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BigQueryConfig:
        env = os.environ if env is None else env
        target = _env(env, "MAIN_IMAGE_DBT_TARGET", PRODUCTION_TARGET) or PRODUCTION_TARGET
        emulator = target == EMULATOR_TARGET
        project = (
            _env(env, "MAIN_IMAGE_BQ_EMULATOR_PROJECT", "main-image-local")
            if emulator
            else _env(env, "MAIN_IMAGE_GCP_PROJECT")
        )
        if not project:
            raise ValueError("MAIN_IMAGE_GCP_PROJECT is not set (the GCP project of BigQuery)")
        return cls(
            project=project,
            location=("US" if emulator else _env(env, "MAIN_IMAGE_BQ_LOCATION", DEFAULT_LOCATION))
            or DEFAULT_LOCATION,
            dataset_prefix=_env(env, "MAIN_IMAGE_DBT_SCHEMA_PREFIX", "") or "",
            dbt_target=target,
            api_endpoint=(
                _env(env, "MAIN_IMAGE_BQ_EMULATOR_ENDPOINT", "http://127.0.0.1:9050")
                if emulator
                else None
            ),
            raw_require_partition_filter=(
                (_env(env, "MAIN_IMAGE_BQ_RAW_REQUIRE_PARTITION_FILTER", "false") or "").lower()
                in TRUE_STRINGS
            ),
        )

    def dataset(self, layer: str) -> str:
        return f"{self.dataset_prefix}{layer}"

    def table(self, layer: str, name: str) -> str:
        """A fully qualified, quoted table name: `project.<prefix><layer>.name`."""
        return f"`{self.project}.{self.dataset(layer)}.{name}`"

    def dbt_env(self) -> dict[str, str]:
        """The environment variables profiles.yml reads for this target."""
        env = {
            "MAIN_IMAGE_DBT_TARGET": self.dbt_target,
            "MAIN_IMAGE_DBT_SCHEMA_PREFIX": self.dataset_prefix,
        }
        if self.dbt_target == EMULATOR_TARGET:
            env["MAIN_IMAGE_BQ_EMULATOR_PROJECT"] = self.project
            env["MAIN_IMAGE_BQ_EMULATOR_ENDPOINT"] = self.api_endpoint or ""
        else:
            env["MAIN_IMAGE_GCP_PROJECT"] = self.project
            env["MAIN_IMAGE_BQ_LOCATION"] = self.location
        return env

    def client(self) -> Any:  # google.cloud.bigquery.Client
        from google.cloud import bigquery

        if self.api_endpoint:
            from google.api_core.client_options import ClientOptions
            from google.auth.credentials import AnonymousCredentials

            return bigquery.Client(
                project=self.project,
                location=self.location,
                credentials=AnonymousCredentials(),
                client_options=ClientOptions(api_endpoint=self.api_endpoint),
            )
        return bigquery.Client(project=self.project, location=self.location)
