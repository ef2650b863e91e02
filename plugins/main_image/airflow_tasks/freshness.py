"""``dbt source freshness`` in the pipeline DAG: a warning, never a failure.

A late feed is worth telling the operator about, but it is no reason to hold back the feeds
that did arrive: the pipeline's rules already handle missing deliveries (a hotel without new
input keeps its main image). So the task runs dbt's check over the raw sources (each with its
``freshness:`` in dbt_project/models/staging/_sources.yml, measured on ``loaded_at``), logs one
line per source, logs a WARNING naming every source that is late (``warn``) or very late
(``error``) and succeeds all the same. When dbt cannot check at all (e.g. the warehouse is not
reachable) the task still succeeds with a warning: the build task after it will fail loudly
if the warehouse is really gone.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

LATE_STATUSES = ("warn", "error", "runtime error")
#: dbt measures an empty table's age from 1970: older than 30 years means "never loaded"
NEVER_HOURS = 30 * 365 * 24


def summarize_sources(sources_json: dict[str, Any]) -> dict[str, Any]:
    """The per-source results of dbt's target/sources.json: status, age, newest load."""
    sources = []
    for result in sources_json.get("results", []):
        unique_id = str(result.get("unique_id", ""))
        sources.append({
            "source": unique_id.removeprefix("source.").split(".", 1)[-1],
            "status": str(result.get("status", "")),
            "max_loaded_at": result.get("max_loaded_at"),
            "age_hours": None if result.get("max_loaded_at_time_ago_in_s") is None
            else round(float(result["max_loaded_at_time_ago_in_s"]) / 3600, 1),
            "error": (result.get("error") or result.get("message") or None),
        })
    late = [s["source"] for s in sources if s["status"] in LATE_STATUSES]
    return {"sources": sources, "late": late}


def format_sources(summary: dict[str, Any]) -> str:
    lines = [f"dbt source freshness: {len(summary['sources'])} sources checked, "
             f"{len(summary['late'])} late"]
    for source in summary["sources"]:
        hours = source["age_hours"]
        age = ("" if hours is None else "nothing loaded yet" if hours > NEVER_HOURS
               else f"newest load {hours} h ago")
        lines.append(f"  {source['status']:<6} {source['source']:<22} {age}".rstrip())
    return "\n".join(lines)


def freshness_operator(config: Any, guard: Any) -> Any:
    """The ``source_freshness`` task (a Cosmos ``DbtSourceLocalOperator`` that never fails)."""
    from cosmos import ProfileConfig
    from cosmos.constants import InvocationMode
    from cosmos.operators.local import DbtSourceLocalOperator

    from main_image.airflow_tasks.dbt_stages import partial_parse_cache

    class SourceFreshnessOperator(DbtSourceLocalOperator):
        """dbt source freshness; late sources are logged as a warning, never raised."""

        def execute(self, context: Any, **kwargs: Any) -> dict[str, Any]:
            self.freshness_summary: dict[str, Any] | None = None
            try:
                super().execute(context, **kwargs)
            except Exception as error:  # stale sources past error_after, or no check possible
                if self.freshness_summary is None:
                    log.warning("dbt source freshness could not check the sources (the run "
                                "goes on): %s", error)
                    return {"sources": [], "late": [], "error": str(error)}
            summary = self.freshness_summary or {"sources": [], "late": []}
            if summary["late"]:
                log.warning("late sources (the run goes on): %s; see the table above",
                            ", ".join(summary["late"]))
            return summary

    def collect(tmp_project_dir: str, context: Any = None, operator: Any = None) -> None:
        path = Path(tmp_project_dir) / "target" / "sources.json"
        if not path.is_file():
            return
        summary = summarize_sources(json.loads(path.read_text(encoding="utf-8")))
        log.info("%s", format_sources(summary))
        if context is not None:
            context["ti"].task.freshness_summary = summary

    return SourceFreshnessOperator(
        task_id="source_freshness",
        doc_md=__doc__,
        project_dir=str(config.dbt_project_dir),
        profile_config=ProfileConfig(
            profile_name="main_image",
            target_name=config.dbt_target,
            profiles_yml_filepath=config.dbt_project_dir / "profiles.yml",
        ),
        invocation_mode=InvocationMode.DBT_RUNNER,
        install_deps=False,
        select="source:raw",
        env=config.dbt_env(),
        emit_datasets=False,
        cache_dir=partial_parse_cache("freshness", config),
        pool=config.pool,
        pre_execute=guard,
        callback=collect,
        retries=0,
    )
