"""The warehouse the Airflow tasks talk to: the embedded DuckDB file or BigQuery, one interface.

``open_warehouse(config)`` gives a ``Warehouse``: the run registry (``start_invocation``,
``record_watermark``, ``mark_selection_completed``, ``mark_exported``), landing
(``load_feeds``), the exports and ``fetchall``/``scalar`` for the registry queries of
``main_image.orchestration``. Those queries are written once, in portable SQL with ``raw.x`` /
``marts.x`` names and ``?`` parameters: DuckDB runs them as they are, ``BigQueryWarehouse``
qualifies the names with project and dataset prefix.

Which one: the dbt target (``MAIN_IMAGE_DBT_TARGET``): ``duckdb`` opens the file (and closes it
again when the block ends: DuckDB allows one writing process), ``bigquery`` / ``bq_emulator``
open a BigQuery client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from main_image import warehouse
from main_image.warehouse import RunParameters

if TYPE_CHECKING:
    import duckdb

    from main_image.bq_config import BigQueryConfig
    from main_image.loader import LoadedFile

Progress = Callable[[str], None]


class Warehouse(Protocol):
    """What the DAG's tasks need from a warehouse (``DuckDBWarehouse`` or
    ``main_image.bigquery.BigQueryWarehouse``)."""

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]: ...
    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any: ...
    def ensure_raw_layer(self) -> None: ...
    def start_invocation(self, params: RunParameters) -> int: ...
    def load_feeds(
        self,
        files_by_feed: Mapping[str, Sequence[Any]],
        run_id: str,
        invocation_seq: int,
        progress: Progress | None = None,
    ) -> list[LoadedFile]: ...
    def record_watermark(self, invocation_seq: int) -> int: ...
    def mark_selection_completed(self, invocation_seq: int) -> None: ...
    def mark_exported(self, invocation_seq: int) -> None: ...
    def export_changes(
        self, target: Any, run_id: str, invocation_seq: int, after_seq: int = 0
    ) -> int: ...
    def export_snapshot(self, target: Any) -> int: ...
    def run_metrics(self, run_id: str) -> dict[str, Any]: ...


class DuckDBWarehouse:
    """The ``Warehouse`` calls over an open connection to the DuckDB file (the functions of
    ``main_image.warehouse``, ``main_image.loader`` and ``main_image.exports``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self.con.execute(sql, list(params or [])).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        return warehouse.scalar(self.con, sql, list(params or []))

    def ensure_raw_layer(self) -> None:
        """Nothing to do: ``warehouse.connect`` creates the raw layer when it opens the file."""

    def start_invocation(self, params: RunParameters) -> int:
        return warehouse.start_invocation(self.con, params)

    def load_feeds(
        self,
        files_by_feed: Mapping[str, Sequence[Any]],
        run_id: str,
        invocation_seq: int,
        progress: Progress | None = None,
    ) -> list[LoadedFile]:
        from main_image import loader  # pyarrow: only when a task lands files

        files = {feed: [Path(source) for source in sources]
                 for feed, sources in files_by_feed.items()}
        return loader.load_feeds(self.con, files, run_id, invocation_seq, progress)

    def record_watermark(self, invocation_seq: int) -> int:
        return warehouse.record_watermark(self.con, invocation_seq)

    def mark_selection_completed(self, invocation_seq: int) -> None:
        warehouse.mark_selection_completed(self.con, invocation_seq)

    def mark_exported(self, invocation_seq: int) -> None:
        warehouse.mark_exported(self.con, invocation_seq)

    def export_changes(
        self, target: Any, run_id: str, invocation_seq: int, after_seq: int = 0
    ) -> int:
        from main_image import exports

        return exports.export_changes(self.con, Path(target), run_id, invocation_seq, after_seq)

    def export_snapshot(self, target: Any) -> int:
        from main_image import exports

        return exports.export_snapshot(self.con, Path(target))

    def run_metrics(self, run_id: str) -> dict[str, Any]:
        from main_image import exports

        return exports.run_metrics(self.con, run_id)


@contextmanager
def open_warehouse(
    duckdb_path: Path,
    bigquery: BigQueryConfig | None,
    read_only: bool = False,
    storage_client: Any = None,
) -> Iterator[Warehouse]:
    """The BigQuery warehouse when ``bigquery`` is given, else the DuckDB file at
    ``duckdb_path`` (opened for the block only). ``storage_client``: the GCS client for gs://
    landing files and exports (None: ``google.cloud.storage.Client()`` when first needed)."""
    if bigquery is not None:
        from main_image.bigquery import BigQueryWarehouse

        yield BigQueryWarehouse(bigquery, storage_client=storage_client)
        return
    with warehouse.connect(duckdb_path, read_only=read_only) as con:
        yield DuckDBWarehouse(con)
