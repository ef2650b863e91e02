"""The warehouse engines: one subpackage per engine with the same file roles (``config``: its
settings; ``loader``: landing one file; ``warehouse``: the ``base.Warehouse`` subclass), the
shared logic in ``base``.

``open_warehouse`` gives the configured engine's ``Warehouse``; it imports the engine's client
library (duckdb, google-cloud-bigquery) only when called, so the DAG files stay cheap to parse.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from main_image.engines.base import LoadedFile, Warehouse

if TYPE_CHECKING:
    from main_image.engines.bigquery.config import BigQueryConfig

__all__ = ["LoadedFile", "Warehouse", "open_warehouse"]


@contextmanager
def open_warehouse(
    duckdb_path: Path,
    bigquery: BigQueryConfig | None,
    read_only: bool = False,
    storage_client: Any = None,
) -> Iterator[Warehouse]:
    """The BigQuery warehouse when ``bigquery`` is given, else the DuckDB file at
    ``duckdb_path`` (opened for the block only: DuckDB allows one writing process).
    ``storage_client``: the GCS client for gs:// files (None: the default client)."""
    if bigquery is not None:
        from main_image.engines.bigquery.warehouse import BigQueryWarehouse

        yield BigQueryWarehouse(bigquery, storage_client=storage_client)
        return
    from main_image.engines.duckdb.warehouse import DuckDBWarehouse

    with DuckDBWarehouse.connect(duckdb_path, read_only=read_only) as wh:
        yield wh
