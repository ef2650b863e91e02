"""The drain as an Airflow task calls it: configured by the environment, skipped when unset.

``MAIN_IMAGE_KAFKA_BOOTSTRAP_SERVERS`` unset means "no stream in this deployment": the task
does nothing (see ``config`` for every variable). The landing zone is the pipeline's
(``MAIN_IMAGE_LANDING_URI`` or ``MAIN_IMAGE_LANDING_DIR``), so ``land_files`` right after
picks the drained files up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: What the task returns when no bootstrap server is configured.
NOT_CONFIGURED = {"skipped": True, "reason": "MAIN_IMAGE_KAFKA_BOOTSTRAP_SERVERS is not set"}


def drain_from_env(
    landing: str, env: Mapping[str, str] | None = None, storage_client: Any = None
) -> dict[str, Any]:
    """Drain the configured topics into ``landing`` (a folder or gs:// URI); the totals."""
    from main_image.stream.config import StreamConfig

    config = StreamConfig.from_env(landing, env)
    if config is None:
        return dict(NOT_CONFIGURED)
    from main_image.stream.lander import Lander
    from main_image.stream.writer import open_landing

    # the task runner owns SIGTERM (a task kill): the lander keeps Airflow's handler
    report = Lander(config, open_landing(landing, storage_client), install_signals=False).run()
    return {"skipped": False, "drain_id": report.drain_id, **report.totals()}
