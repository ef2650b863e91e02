"""main_image_pipeline: land the feeds, build the dbt project (Cosmos), publish the outputs.

Importing this file is cheap: the dbt project is three Cosmos `dbt build --select` tasks with
graph selectors (main_image.airflow_tasks.dbt_stages), so nothing parses dbt or connects to the
warehouse at import time and a model added to the project needs no DAG change.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from airflow.sdk import Param, TaskGroup, dag, get_current_context, task
from main_image import orchestration as orch
from main_image.airflow_tasks.dbt_stages import STAGES, stage_operators
from main_image.airflow_tasks.freshness import freshness_operator
from main_image.airflow_tasks.register import RegisterAttemptSensor

CONFIG = orch.Config.from_env()
ASSETS = orch.export_assets()
GUARD = orch.AttemptGuard(CONFIG)

STAGE_TASKS = " → ".join(f"`dbt.{stage.name}`" for stage in STAGES)

DOC_MD = f"""
# Main image pipeline

One DAG run = one pipeline run: **run id = the Airflow run id**, **as_of = the logical date**
(never earlier than the as_of already published). Schedule: `{CONFIG.schedule}`
(`MAIN_IMAGE_SCHEDULE`), one run at a time. Warehouse: **{CONFIG.engine}** (dbt target
`{CONFIG.dbt_target}`, `MAIN_IMAGE_DBT_TARGET`).

Tasks:
* `register_attempt`: a new attempt in `raw.pipeline_runs` (new `invocation_seq`, the dbt vars
  as XCom); waits while another run's attempt is in flight.
* `drain_stream`: drains the Kafka image stream into the landing zone (skipped, as a no-op,
  without `MAIN_IMAGE_KAFKA_BOOTSTRAP_SERVERS`).
* `land_files`: loads every new file of every feed from `{CONFIG.landing_location}`
  (content loaded before is skipped).
* `source_freshness`: `dbt source freshness` on the raw feeds; a late feed is a WARNING in the
  log (and the task's XCom), never a failure.
* {STAGE_TASKS}: `dbt build --select` per stage (Cosmos),
  models with their data and unit tests; each log ends with a table of its models (status,
  seconds, rows). A failed model or test stops the run before anything is published.
* `publish`: marks the selection completed, writes `changes.jsonl`, `snapshot.jsonl` and
  `metrics.json` to `{CONFIG.exports_uri or CONFIG.exports_dir}/<run id>/`, updates the export
  assets.

**Operations.** Clearing a finished run and re-running it changes nothing. A run that failed
anywhere can be cleared (whole run, or from the failed task) and converges, with no duplicated or
lost change record. Backfills (`airflow backfill create --dag-id {orch.PIPELINE_DAG_ID}
--from-date ... --to-date ... --max-active-runs 1`) run in date order. Params: `full_refresh`
recomputes every hotel (`main_image_full_rebuild` triggers it), `as_of`, `scoring_version`,
`shadow_scoring_version` (ranked beside it into `rpt_scoring_shadow`, docs/scoring.md), version
pins (default: Variables `{orch.SCORING_VERSION_VARIABLE}`, ... or env). All warehouse writers
share the one-slot pool `{CONFIG.pool}`. See docs/airflow.md.
"""


@dag(
    dag_id=orch.PIPELINE_DAG_ID,
    schedule=CONFIG.schedule,
    start_date=CONFIG.start_date.replace(tzinfo=UTC),
    end_date=CONFIG.end_date.replace(tzinfo=UTC) if CONFIG.end_date else None,
    catchup=CONFIG.catchup,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=12),
    default_args={
        "owner": "data-engineering",
        "retries": CONFIG.retries,
        "retry_delay": CONFIG.retry_delay,
        "pool": CONFIG.pool,
    },
    params={
        "full_refresh": Param(
            False, type="boolean", description="Recompute every hotel (emits only real changes)."
        ),
        "as_of": Param(
            None, type=["null", "string"], pattern=r"^\d{4}-\d{2}-\d{2}$",
            description="The run's date YYYY-MM-DD; empty: the logical date.",
        ),
        "scoring_version": Param(
            None, type=["null", "string"],
            description=f"Empty: Variable {orch.SCORING_VERSION_VARIABLE}, else "
            "MAIN_IMAGE_SCORING_VERSION, else v1.",
        ),
        "shadow_scoring_version": Param(
            None, type=["null", "string"],
            description="Also rank with this version into rpt_scoring_shadow; publishes nothing.",
        ),
        "tag_version_pin": Param(None, type=["null", "string"], description="e.g. v4-0-0"),
        "obiq_version_pin": Param(None, type=["null", "string"], description="e.g. v1"),
    },
    tags=["main_image", "dbt", "cosmos", CONFIG.engine],
    doc_md=DOC_MD,
)
def main_image_pipeline() -> None:
    registration = RegisterAttemptSensor(task_id=orch.REGISTER_TASK_ID, config=CONFIG)

    @task(pre_execute=GUARD)
    def land_files(attempt: dict[str, Any]) -> dict[str, Any]:
        """Land every new landing file of every feed into the raw layer."""
        return orch.land_files(CONFIG, attempt["run_id"], int(attempt["invocation_seq"]))

    @task(pre_execute=GUARD, outlets=list(ASSETS.values()))
    def publish(attempt: dict[str, Any]) -> dict[str, Any]:
        """Write changes / snapshot / metrics (contract §5) and update the export assets."""
        run_id, invocation_seq = attempt["run_id"], int(attempt["invocation_seq"])
        published = orch.publish_attempt(CONFIG, run_id, invocation_seq)
        outlet_events = get_current_context()["outlet_events"]
        for name, asset in ASSETS.items():
            outlet_events[asset].extra = published.asset_extra(run_id, invocation_seq, name)
        return published.metrics

    @task(pre_execute=GUARD, execution_timeout=timedelta(minutes=30))
    def drain_stream() -> dict[str, Any]:
        """Drain the image stream into the landing zone first (issue 14); a no-op when
        MAIN_IMAGE_KAFKA_BOOTSTRAP_SERVERS is unset. See main_image/stream/tasks.py."""
        from main_image.stream.tasks import drain_from_env

        result = drain_from_env(CONFIG.landing_location, storage_client=CONFIG.storage_client)
        print(result.get("reason") or result)
        return result

    landed = land_files(registration.output)
    registration >> drain_stream() >> landed
    freshness = freshness_operator(CONFIG, GUARD)
    with TaskGroup(group_id=orch.DBT_GROUP_ID, tooltip="dbt build, one task per stage") as dbt:
        stages = stage_operators(CONFIG, GUARD, orch.dbt_vars_template())

    landed >> freshness >> dbt
    stages[-1] >> publish(registration.output)


main_image_pipeline()
