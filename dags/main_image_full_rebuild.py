"""main_image_full_rebuild: recompute every hotel (e.g. after a new scoring version).

Manually triggered. It does not write the warehouse itself: it triggers a run of
main_image_pipeline with ``full_refresh`` (one writer DAG, one run at a time), waits for it and
reports what changed. Only real changes are emitted: a hotel whose selection is unchanged gets no
change record.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Param, dag, get_current_context, task
from main_image import orchestration as orch
from main_image.airflow_tasks import notes

CONFIG = orch.Config.from_env()

DOC_MD = f"""
# Full rebuild

Recomputes the main image of **every hotel** with the given scoring version, by triggering
`{orch.PIPELINE_DAG_ID}` with `full_refresh=true` (run id `full_rebuild__<this run id>`), then
waits for it. Only real changes are published (same exports as any run:
`<exports>/full_rebuild__.../changes.jsonl`, `snapshot.jsonl`, `metrics.json`).

Params:
* `scoring_version`: empty = the configured one. With `activate` (default), a different version is
  first made the configured one (Variable `{orch.SCORING_VERSION_VARIABLE}`), so later daily runs
  keep it; the version must exist in `macros/scoring/scoring_versions.sql` (checked against the
  dbt manifest).
* `as_of`: empty = the trigger date (never before the as_of already published).
* `compare_only`: rank every hotel with `scoring_version` in shadow, beside the configured version,
  into `reporting.rpt_scoring_shadow`: nothing is activated and the candidate publishes nothing (the
  run is a full refresh of the configured version, which emits only real changes). docs/scoring.md.

Typical use: add `score_v2`, deploy, trigger this DAG with `scoring_version=v2`.
"""


@dag(
    dag_id=orch.REBUILD_DAG_ID,
    schedule=None,
    start_date=datetime(2024, 7, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-engineering", "retries": 0},
    params={
        "scoring_version": Param(
            None, type=["null", "string"], description="Empty: the configured scoring version."
        ),
        "as_of": Param(
            None, type=["null", "string"], pattern=r"^\d{4}-\d{2}-\d{2}$",
            description="YYYY-MM-DD; empty: the trigger date.",
        ),
        "activate": Param(
            True, type="boolean",
            description="Make scoring_version the configured one for later runs.",
        ),
        "compare_only": Param(
            False, type="boolean",
            description="Only compare scoring_version in shadow (rpt_scoring_shadow); activate "
            "nothing.",
        ),
    },
    tags=["main_image", "rebuild", "manual"],
    doc_md=DOC_MD,
)
def main_image_full_rebuild() -> None:
    @task
    def prepare_rebuild() -> dict[str, Any]:
        """Validate the params, activate the scoring version; returns the pipeline run's conf."""
        from airflow.sdk import Variable
        from airflow.sdk.exceptions import AirflowFailException

        params = get_current_context()["params"]
        configured = orch.configured_scoring(orch.airflow_variable_lookup)["scoring_version"]
        version = (params.get("scoring_version") or "").strip() or configured
        known = orch.known_scoring_versions(CONFIG.manifest_path)
        if known is not None and version not in known:
            raise AirflowFailException(
                f"unknown scoring version {version!r}; registered: {', '.join(sorted(known))}"
            )
        if params.get("compare_only"):
            print(f"comparing {version} in shadow against {configured} over every hotel")
            return {
                "full_refresh": True,
                "scoring_version": configured,
                "shadow_scoring_version": version,
                "as_of": (params.get("as_of") or "").strip() or None,
            }
        if params.get("activate") and version != configured:
            Variable.set(orch.SCORING_VERSION_VARIABLE, version)
            print(f"scoring version {version} activated (was {configured})")
        return {
            "full_refresh": True,
            "scoring_version": version,
            "as_of": (params.get("as_of") or "").strip() or None,
        }

    conf = prepare_rebuild()

    trigger = TriggerDagRunOperator(
        task_id="trigger_pipeline",
        trigger_dag_id=orch.PIPELINE_DAG_ID,
        trigger_run_id="full_rebuild__{{ run_id }}",
        conf=conf,
        reset_dag_run=True,
        note=f"Full rebuild triggered by {orch.REBUILD_DAG_ID}: every hotel recomputed; "
        "the summary is in the rebuild run's note and its report task log.",
        wait_for_completion=True,
        poke_interval=30,
        deferrable=True,
    )

    @task
    def report() -> dict[str, Any]:
        """The rebuild's summary (how many hotels really changed): the first line of this log,
        the run's note (docs/airflow.md#full-rebuild-and-scoring-versions) and the XCom."""
        context = get_current_context()
        run_id = f"full_rebuild__{context['run_id']}"
        metrics = orch.read_metrics(CONFIG, run_id)
        summary = notes.rebuild_summary(
            run_id, metrics, orch.export_path(CONFIG, run_id, "metrics"))
        notes.log.info("%s", summary)
        notes.set_run_note(orch.REBUILD_DAG_ID, context["run_id"], summary)
        print(json.dumps(metrics, indent=2, default=str))
        return {"summary": summary, **metrics}

    conf >> trigger >> report()


main_image_full_rebuild()
