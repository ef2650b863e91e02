"""Where a user sees a run's result first: the top of a task log and the DAG run's note.

Airflow 3's Task SDK has no call that sets a DAG run's note from a task; the public REST API
does (``PATCH /api/v2/dags/{dag_id}/dagRuns/{run_id}``). Locally (``make airflow``: the simple
auth manager with every user an admin) it needs no token. Elsewhere set the Airflow Variable
``main_image_api_token`` (a token of a user allowed to edit DAG runs) or accept that the note
stays empty: the summary is always the first line of the task log and the task's XCom.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

log = logging.getLogger(__name__)

TOKEN_VARIABLE = "main_image_api_token"


def rebuild_summary(run_id: str, metrics: dict[str, Any], metrics_path: str) -> str:
    """One line: what the full rebuild changed (markdown-friendly, fits a run note)."""
    changes = metrics.get("main_images", {})
    total = sum(int(value) for value in changes.values())
    return (
        f"Full rebuild {run_id} (as of {metrics.get('as_of')}, scoring "
        f"{metrics.get('scoring_version', '?')}): {total} main images changed "
        f"(new {changes.get('new', 0)}, updated {changes.get('updated', 0)}, "
        f"deleted {changes.get('deleted', 0)}) over {metrics.get('hotels_with_images', '?')} "
        f"hotels; metrics: {metrics_path}"
    )


def set_run_note(dag_id: str, run_id: str, note: str) -> bool:
    """Best effort: the DAG run's note through the REST API; False (and a log line) when the
    API refuses or cannot be reached."""
    from airflow.configuration import conf

    base = conf.get("api", "base_url", fallback="")
    if not base:  # e.g. `airflow dags test`: no API server to ask
        log.info("run note not set ([api] base_url is not configured)")
        return False
    url = (f"{base.rstrip('/')}/api/v2/dags/{urllib.parse.quote(dag_id)}/dagRuns/"
           f"{urllib.parse.quote(run_id, safe='')}?update_mask=note")
    headers = {"Content-Type": "application/json"}
    token = _token()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps({"note": note}).encode(),
                                     headers=headers, method="PATCH")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
        return True
    except (urllib.error.URLError, OSError, ValueError) as error:
        log.info("run note not set (%s); the summary is in this log and the XCom", error)
        return False


def _token() -> str | None:
    try:
        from airflow.sdk import Variable

        return Variable.get(TOKEN_VARIABLE, default=None)
    except Exception:  # no Variable backend reachable: no token
        return None
