"""BigQuery: ``base.Warehouse`` over a BigQuery client (production, or the local emulator).

* Datasets ``<prefix>raw``, ``<prefix>staging``, ``<prefix>marts``, ``<prefix>reporting`` are
  created by terraform/ in production (this module only creates ``<prefix>raw``'s tables, and
  the dataset itself when it is missing, e.g. on the emulator). dbt builds everything else.
* A feed's raw table is partitioned by the load day (``DATE(loaded_at)``) and clustered by
  ``file_seq``, so the staging models read only the partitions loaded since their watermark.
* The shared statements take ``raw.x`` / ``marts.x`` names and ``?`` parameters; ``qualify``
  turns the names into ``project.<prefix><layer>.x``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

from main_image import fileio
from main_image.engines.base import LoadedFile, Warehouse
from main_image.engines.bigquery import loader
from main_image.engines.bigquery.config import BigQueryConfig
from main_image.settings import LOADED_FEEDS

_LAYER_REFERENCE = re.compile(r"(?<![\w.`])(raw|staging|marts|reporting)\.([A-Za-z_][A-Za-z0-9_]*)")


def query_parameter(value: Any) -> Any:
    """A positional ``ScalarQueryParameter`` of the value's BigQuery type."""
    from google.cloud import bigquery

    if isinstance(value, bool):
        kind = "BOOL"
    elif isinstance(value, int):
        kind = "INT64"
    elif isinstance(value, float):
        kind = "FLOAT64"
    elif isinstance(value, datetime):
        kind = "TIMESTAMP"
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        kind = "DATE"
    else:
        kind = "STRING"
        value = None if value is None else str(value)
    return bigquery.ScalarQueryParameter(None, kind, value)


class BigQueryWarehouse(Warehouse):
    """The raw layer, the run registry and the exports on BigQuery (see the module doc)."""

    engine: ClassVar[str] = "bigquery"
    now_sql: ClassVar[str] = "current_timestamp()"

    def __init__(
        self, config: BigQueryConfig, client: Any = None, storage_client: Any = None
    ) -> None:
        self.config = config
        self.client = client if client is not None else config.client()
        self.storage_client = storage_client
        self._ready = False

    # -- SQL --------------------------------------------------------------------------------

    def qualify(self, sql: str) -> str:
        """`raw.x`, `staging.x`, `marts.x`, `reporting.x` -> `project.<prefix><layer>.x`."""
        return _LAYER_REFERENCE.sub(
            lambda match: self.config.table(match.group(1), match.group(2)), sql
        )

    def _run(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        from google.cloud import bigquery

        job_config = bigquery.QueryJobConfig(
            query_parameters=[query_parameter(value) for value in params or []]
        )
        return self.client.query(self.qualify(sql), job_config=job_config).result()

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return [tuple(row.values()) for row in self._run(sql, params)]

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict]:
        return [dict(row.items()) for row in self._run(sql, params)]

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self._run(sql, params)

    # -- the raw layer ----------------------------------------------------------------------

    def table_suffix(self, table: str, feed: str = "") -> str:
        if table == "load_manifest":
            return "\ncluster by feed, content_sha256"
        if table != "lines":
            return ""
        return f"""
            partition by date(loaded_at)
            cluster by file_seq
            options (
                require_partition_filter = {self._require_partition_filter()},
                description = 'Lines of the {feed} feed, one row per input line (main_image loader)'
            )
        """

    def _require_partition_filter(self) -> str:
        return "true" if self.config.raw_require_partition_filter else "false"

    def ensure_raw_layer(self) -> None:
        """Create ``<prefix>raw`` (when missing) and its tables (when missing)."""
        if self._ready:
            return
        from google.api_core.exceptions import NotFound
        from google.cloud import bigquery

        dataset_id = f"{self.config.project}.{self.config.dataset('raw')}"
        try:
            self.client.get_dataset(dataset_id)
        except NotFound:  # terraform creates it in production; the emulator starts empty
            dataset = bigquery.Dataset(dataset_id)
            dataset.location = self.config.location
            self.client.create_dataset(dataset, exists_ok=True)
        super().ensure_raw_layer()
        # the option follows the configuration also for tables created earlier
        for feed in LOADED_FEEDS:
            self.execute(f"alter table raw.{feed} set options "
                         f"(require_partition_filter = {self._require_partition_filter()})")
        self._ready = True

    def start_invocation(self, params: Any) -> int:
        self.ensure_raw_layer()
        return super().start_invocation(params)

    # -- landing and exports ----------------------------------------------------------------

    def load_file(
        self, feed: str, source: Path | str, run_id: str, invocation_seq: int
    ) -> LoadedFile:
        return loader.load_file(self, feed, source, run_id, invocation_seq)

    def write_main_image_rows(self, query: str, params: Sequence[Any], target: Path | str) -> int:
        """The rows, written as JSON Lines to a local path or a gs:// URI."""
        rows = self.fetchall(query, params)
        with fileio.open_write(target, self.storage_client) as handle:
            for hotel_id, image_id, cdn_url in rows:
                value = None if image_id is None else {"image_id": image_id, "cdn_url": cdn_url}
                handle.write(json.dumps({"key": {"hotel_id": hotel_id}, "value": value}) + "\n")
        return len(rows)
