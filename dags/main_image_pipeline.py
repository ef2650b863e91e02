"""main_image_pipeline: land the feeds, build the dbt project (Cosmos), publish the outputs.

Importing this file is cheap: Cosmos renders the dbt graph from the manifest written by
`dbt parse` (LoadMode.DBT_MANIFEST); nothing connects to the warehouse at import time.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Any

from airflow.sdk import Param, PokeReturnValue, dag, get_current_context, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior
from main_image import orchestration as orch

CONFIG = orch.Config.from_env()
ASSETS = orch.export_assets()
GUARD = orch.AttemptGuard(CONFIG)

if not CONFIG.manifest_path.is_file():
    raise FileNotFoundError(
        f"dbt manifest not found at {CONFIG.manifest_path}: run `make airflow-manifest` "
        "(dbt parse --project-dir dbt_project --profiles-dir dbt_project)"
    )

DOC_MD = f"""
# Main image pipeline

One DAG run = one pipeline run: **run id = the Airflow run id**, **as_of = the logical date**
(never earlier than the as_of already published). Schedule: `{CONFIG.schedule}`
(`MAIN_IMAGE_SCHEDULE`), one run at a time. Warehouse: **{CONFIG.engine}** (dbt target
`{CONFIG.dbt_target}`, `MAIN_IMAGE_DBT_TARGET`).

Tasks:
* `register_attempt`: a new attempt in `raw.pipeline_runs` (new `invocation_seq`, the dbt vars
  as XCom); waits while another run's attempt is in flight.
* `land_files`: loads every new file of every feed from `{CONFIG.landing_location}`
  (content loaded before is skipped).
* `dbt.*`: the dbt project through Cosmos, one task per model with its data tests right after
  it; a failed test stops the run before anything is published.
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
    @task.sensor(
        task_id=orch.REGISTER_TASK_ID,
        mode="reschedule",
        poke_interval=30,
        timeout=6 * 3600,
    )
    def register_attempt() -> PokeReturnValue:
        """Register a new attempt of this run (new invocation_seq): the dbt vars, as XCom."""
        context = get_current_context()
        ti = context["ti"]
        dag_run = context["dag_run"]
        logical_date = context.get("logical_date")
        run_date: date = (logical_date or dag_run.run_after).date()

        def is_active(other_run_id: str) -> bool:
            try:
                state = ti.get_dagrun_state(dag_id=orch.PIPELINE_DAG_ID, run_id=other_run_id)
            except Exception:  # not a run of this DAG (e.g. a CLI run)
                return False
            return orch.is_live_run_state(state)

        outcome = orch.register_attempt(
            CONFIG,
            run_id=context["run_id"],
            run_date=run_date,
            params=context["params"],
            is_active=is_active,
            lookup=orch.airflow_variable_lookup,
        )
        if isinstance(outcome, orch.InFlight):
            print(f"waiting: attempt {outcome.invocation_seq} of run {outcome.run_id} is in flight")
            return PokeReturnValue(is_done=False)
        return PokeReturnValue(is_done=True, xcom_value=outcome)

    @task(pre_execute=GUARD)
    def land_files(attempt: dict[str, Any]) -> dict[str, Any]:
        """Land every new landing file of every feed into the raw layer."""
        return orch.land_files(CONFIG, attempt["run_id"], int(attempt["invocation_seq"]))

    @task(pre_execute=GUARD, outlets=list(ASSETS.values()))
    def publish(attempt: dict[str, Any]) -> dict[str, Any]:
        """Write changes / snapshot / metrics (SPEC §5) and update the export assets."""
        run_id, invocation_seq = attempt["run_id"], int(attempt["invocation_seq"])
        published = orch.publish_attempt(CONFIG, run_id, invocation_seq)
        outlet_events = get_current_context()["outlet_events"]
        for name, asset in ASSETS.items():
            outlet_events[asset].extra = published.asset_extra(run_id, invocation_seq, name)
        return published.metrics

    registration = register_attempt()
    landed = land_files(registration)

    transform = DbtTaskGroup(
        group_id=orch.DBT_GROUP_ID,
        project_config=ProjectConfig(
            dbt_project_path=CONFIG.dbt_project_dir,
            manifest_path=CONFIG.manifest_path,
            env_vars=CONFIG.dbt_env(),
            install_dbt_deps=False,
        ),
        profile_config=ProfileConfig(
            profile_name="main_image",
            target_name=CONFIG.dbt_target,
            profiles_yml_filepath=CONFIG.dbt_project_dir / "profiles.yml",
        ),
        execution_config=ExecutionConfig(invocation_mode=InvocationMode.DBT_RUNNER),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            emit_datasets=False,
        ),
        operator_args={
            "vars": orch.dbt_vars_template(),
            "pool": CONFIG.pool,
            "pre_execute": GUARD,
            "install_deps": False,
        },
    )

    landed >> transform >> publish(registration)


main_image_pipeline()
