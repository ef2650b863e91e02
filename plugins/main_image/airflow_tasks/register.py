"""The ``register_attempt`` task: a reschedule-mode sensor that registers a new attempt.

A plain ``BaseSensorOperator`` subclass rather than ``@task.sensor``: the decorator imports
``airflow.providers.standard.sensors.python``, whose module-level import of
``airflow.utils.operator_helpers.determine_kwargs`` logs a deprecation warning in every task
process (apache-airflow-providers-standard 1.21.0, the latest release).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from main_image import orchestration as orch


class RegisterAttemptSensor(BaseSensorOperator):
    """Registers a new attempt of this run (new invocation_seq); its XCom is the attempt's dbt
    vars. Waits (reschedule mode: no worker slot held) while another run's attempt is in
    flight, so attempts never interleave."""

    ui_color = "#e8f0fe"

    def __init__(self, *, config: orch.Config, **kwargs: Any) -> None:
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("poke_interval", 30)
        kwargs.setdefault("timeout", 6 * 3600)
        super().__init__(**kwargs)
        self.config = config

    def poke(self, context: Any) -> PokeReturnValue:
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
            self.config,
            run_id=context["run_id"],
            run_date=run_date,
            params=context["params"],
            is_active=is_active,
            lookup=orch.airflow_variable_lookup,
        )
        if isinstance(outcome, orch.InFlight):
            self.log.info("waiting: attempt %s of run %s is in flight",
                          outcome.invocation_seq, outcome.run_id)
            return PokeReturnValue(is_done=False)
        return PokeReturnValue(is_done=True, xcom_value=outcome)
