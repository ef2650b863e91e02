"""main_image_export_consumer: a data-aware downstream DAG of the pipeline's exports.

Scheduled on the assets ``main_image_changes`` and ``main_image_snapshot`` (no time schedule):
it runs after each successful ``publish`` of main_image_pipeline and validates the files the
asset events point at (the place to hand the changes to the frontend). When several exports
were published since its last run, it validates the latest one by attempt (``invocation_seq``
in the events' extra), changes and snapshot of that same attempt, and logs which run that is.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from airflow.sdk import dag, get_current_context, task
from main_image import orchestration as orch
from main_image.airflow_tasks.consumer import latest_export

ASSETS = orch.export_assets()


CONFIG = orch.Config.from_env()


def validate_jsonl(path: str, allow_null: bool) -> int:
    """Check every line has the main_images feed shape (contract §5); returns the line count.
    ``path``: a local path or a gs:// URI (the export location of the pipeline)."""
    from main_image.fileio import open_read

    hotels: set[int] = set()
    count = 0
    with open_read(path, CONFIG.storage_client) as handle:
        for number, raw_line in enumerate(handle, start=1):
            record = json.loads(raw_line)
            hotel_id = record["key"]["hotel_id"]
            value = record["value"]
            if not isinstance(hotel_id, int):
                raise ValueError(f"{path}:{number}: hotel_id is not an integer")
            if value is None:
                if not allow_null:
                    raise ValueError(f"{path}:{number}: null value in the snapshot")
            elif not (isinstance(value["image_id"], int) and isinstance(value["cdn_url"], str)):
                raise ValueError(f"{path}:{number}: value must be {{image_id, cdn_url}}")
            if not allow_null and hotel_id in hotels:
                raise ValueError(f"{path}:{number}: hotel {hotel_id} twice in the snapshot")
            hotels.add(hotel_id)
            count += 1
    return count


@dag(
    dag_id=orch.CONSUMER_DAG_ID,
    schedule=ASSETS["changes"] & ASSETS["snapshot"],
    start_date=datetime(2024, 7, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-engineering", "retries": 1},
    tags=["main_image", "exports", "assets"],
    doc_md=__doc__,
)
def main_image_export_consumer() -> None:
    @task
    def validate_latest_export() -> dict[str, Any]:
        """Validate the latest export (by attempt) named by the triggering events."""
        events = get_current_context()["triggering_asset_events"]
        export = latest_export({name: events[ASSETS[name]] for name in ("changes", "snapshot")})
        print(f"validating the export of run {export.run_id} (attempt {export.invocation_seq}, "
              f"as_of {export.as_of})")
        summary: dict[str, Any] = {"run_id": export.run_id,
                                   "invocation_seq": export.invocation_seq,
                                   "as_of": export.as_of}
        for name, path in export.paths.items():
            lines = validate_jsonl(path, allow_null=name == "changes")
            expected = export.records[name]
            if expected is not None and lines != expected:
                raise ValueError(f"{path}: {lines} lines, the asset event says {expected}")
            summary[name] = {"path": path, "records": lines}
        print(f"validated run {export.run_id} attempt {export.invocation_seq}: "
              f"{json.dumps(summary)}")
        return summary

    validate_latest_export()


main_image_export_consumer()
