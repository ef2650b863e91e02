"""Where the dashboard reads the reporting marts: the DuckDB warehouse or BigQuery.

DuckDB allows one writing process per file, and a reader blocks the writer too: the dashboard
opens the file read-only for each query and closes it at once, so that a pipeline run started
while the page is open is not held up. While a run holds the file, queries raise
``WarehouseBusy`` and the page says so instead of failing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

#: The dbt targets that run on BigQuery (profiles.yml); every other target is the DuckDB file.
BIGQUERY_TARGETS = frozenset({"bigquery", "bq_emulator"})
DEFAULT_WAREHOUSE = Path("warehouse") / "main_image.duckdb"


class DashboardError(RuntimeError):
    """The marts cannot be read; the message says why and what to do."""


class WarehouseBusy(DashboardError):
    """A pipeline run holds the DuckDB file (one writer per file)."""


@dataclass(frozen=True)
class SourceConfig:
    """Which warehouse the dashboard reads, from the variables the pipeline and dbt read
    (MAIN_IMAGE_DBT_TARGET, MAIN_IMAGE_WAREHOUSE, MAIN_IMAGE_GCP_PROJECT,
    MAIN_IMAGE_DBT_SCHEMA_PREFIX and the emulator's endpoint and project)."""

    target: str = "duckdb"
    warehouse: Path = DEFAULT_WAREHOUSE
    project: str | None = None
    dataset_prefix: str = ""
    api_endpoint: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SourceConfig:
        env = os.environ if env is None else env
        target = env.get("MAIN_IMAGE_DBT_TARGET", "").strip() or "duckdb"
        emulator = target == "bq_emulator"
        return cls(
            target=target,
            warehouse=Path(env.get("MAIN_IMAGE_WAREHOUSE") or DEFAULT_WAREHOUSE),
            project=(
                env.get("MAIN_IMAGE_BQ_EMULATOR_PROJECT", "main-image-local")
                if emulator
                else env.get("MAIN_IMAGE_GCP_PROJECT")
            ),
            dataset_prefix=env.get("MAIN_IMAGE_DBT_SCHEMA_PREFIX", ""),
            api_endpoint=(
                env.get("MAIN_IMAGE_BQ_EMULATOR_ENDPOINT", "http://127.0.0.1:9050")
                if emulator
                else None
            ),
        )

    @property
    def is_bigquery(self) -> bool:
        return self.target in BIGQUERY_TARGETS


class ReportingSource:
    """Runs the dashboard's queries; ``{reporting}`` in a query names the reporting schema."""

    description: str = ""

    def table(self, name: str) -> str:
        raise NotImplementedError

    def query(self, sql: str) -> pd.DataFrame:
        raise NotImplementedError

    def render(self, sql: str) -> str:
        return sql.replace("{reporting}.", self.table(""))


class DuckDBSource(ReportingSource):
    def __init__(self, warehouse: Path) -> None:
        self.warehouse = warehouse
        self.description = f"DuckDB warehouse {warehouse} (opened read-only)"

    def table(self, name: str) -> str:
        return f"reporting.{name}"

    def query(self, sql: str) -> pd.DataFrame:
        import duckdb

        if not self.warehouse.is_file():
            raise DashboardError(
                f"no warehouse at {self.warehouse}: run the pipeline first (`make run`)"
            )
        try:
            con = duckdb.connect(str(self.warehouse), read_only=True)
        except duckdb.IOException as error:
            if "lock" in str(error).lower():
                raise WarehouseBusy(
                    f"the warehouse {self.warehouse} is in use by a pipeline run (DuckDB allows "
                    "one writer per file): reload this page when the run is done"
                ) from None
            raise DashboardError(f"cannot open {self.warehouse}: {error}") from None
        try:
            return con.execute(self.render(sql)).df()
        except duckdb.CatalogException as error:
            raise DashboardError(
                f"the reporting marts are missing from {self.warehouse} ({error}): "
                "run the pipeline first (`make run`)"
            ) from None
        finally:
            con.close()


class BigQuerySource(ReportingSource):
    def __init__(self, config: SourceConfig) -> None:
        if not config.project:
            raise DashboardError("MAIN_IMAGE_GCP_PROJECT is not set (the project of BigQuery)")
        self.config = config
        self.dataset = f"{config.project}.{config.dataset_prefix}reporting"
        self.description = f"BigQuery dataset {self.dataset}"
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            from google.cloud import bigquery

            if self.config.api_endpoint:  # the local emulator: anonymous
                from google.api_core.client_options import ClientOptions
                from google.auth.credentials import AnonymousCredentials

                self._client = bigquery.Client(
                    project=self.config.project,
                    credentials=AnonymousCredentials(),
                    client_options=ClientOptions(api_endpoint=self.config.api_endpoint),
                )
            else:  # Application Default Credentials
                self._client = bigquery.Client(project=self.config.project)
        return self._client

    def table(self, name: str) -> str:
        return f"`{self.dataset}`.{name}"

    def query(self, sql: str) -> pd.DataFrame:
        job = self.client().query(self.render(sql))
        return job.result().to_dataframe(create_bqstorage_client=False)


def open_source(config: SourceConfig) -> ReportingSource:
    if config.is_bigquery:
        return BigQuerySource(config)
    return DuckDBSource(config.warehouse)
