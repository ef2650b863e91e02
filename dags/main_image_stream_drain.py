"""main_image_stream_drain: drain the image stream into the landing zone, often.

Optional: the pipeline DAG already drains at the start of each run (task ``drain_stream``).
This DAG drains every ``MAIN_IMAGE_STREAM_DRAIN_SCHEDULE`` (default every 15 minutes) so that
stream files wait in the landing zone, committed, and Kafka's retention is never the limit.
It only writes files: no warehouse, no pool. Skipped when ``MAIN_IMAGE_KAFKA_BOOTSTRAP_SERVERS``
is unset. Configuration: the Kafka variables of docs/configuration.md (see
main_image/stream/config.py and docs/design.md, "The image stream").
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import dag, task

SCHEDULE = os.environ.get("MAIN_IMAGE_STREAM_DRAIN_SCHEDULE", "*/15 * * * *")


@dag(
    dag_id="main_image_stream_drain",
    schedule=SCHEDULE,
    start_date=datetime(2024, 7, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,  # one lander of this DAG at a time (the group would share anyway)
    default_args={"owner": "data-engineering", "retries": 2, "retry_delay": timedelta(minutes=1)},
    tags=["main_image", "stream", "kafka"],
    doc_md=__doc__,
)
def main_image_stream_drain() -> None:
    @task(execution_timeout=timedelta(minutes=30))
    def drain_stream() -> dict[str, Any]:
        """Drain every configured topic up to the end offsets seen at start."""
        from airflow.exceptions import AirflowSkipException
        from main_image import orchestration as orch
        from main_image.stream.tasks import drain_from_env

        config = orch.Config.from_env()
        result = drain_from_env(config.landing_location, storage_client=config.storage_client)
        if result["skipped"]:
            raise AirflowSkipException(result["reason"])
        return result

    drain_stream()


main_image_stream_drain()
