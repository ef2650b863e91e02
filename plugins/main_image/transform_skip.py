"""Whether a DuckDB run can leave dbt out: a run with nothing new to do costs what it takes to
find that out (issue 11), not a dbt build (about 9 s of start-up, parsing and tests).

``decide`` answers with one cheap look at the run registry (and, when only the run date moved
under scoring v1, one count over ``int_images_latest``). dbt is skipped only when its build
could not change any output:

* no file landed since the last attempt whose selection completed, and that attempt is the
  one just before this one (so no failed or interrupted attempt left work for dbt, and every
  staging and intermediate table already holds every landed line);
* the run's dbt variables that change results are those of that attempt: scoring version,
  tag and obiq pins, no full refresh, no shadow version (``rpt_scoring_shadow`` gains a row per
  run, and the registry does not record the last shadow version), and the dbt project is the
  one the last build ran (``raw.dbt_project_builds``);
* the run date is unchanged, or - scoring v1 only - no image's freshness term differs between
  the two dates. v1's only use of the date is s_fresh = clip(1 - age_days / 3650, 0, 1)
  (macros/scoring/score_v1.sql); between dates E < L it is the same for an image created on c
  exactly when c >= L (1 on both) or c + 3650 <= E (0 on both). The other models that read
  the date (engagement window: v2 only; margins, changes and metrics: the date as a column)
  give no other hotel a reason to move.

When in doubt, dbt runs. A skipped run then does by itself what the build would have left for
publishing: the selection is marked completed (no hotel was in scope: no change record) and the
run's row of ``reporting.rpt_run_metrics`` is written by ``METRICS_QUERY``, the model's query
over the tables the last build left. The reporting tables derived from the run metrics
(``rpt_main_images_daily`` and the daily reports) catch up at the next build.

When dbt does run, ``idle_feeds`` names the feeds that received no file in this attempt, under
the same conditions on the previous attempt, parameters and project (without them: none), and
the build leaves out the nodes under those feeds alone (``idle_nodes``).

The Airflow DAG does not use this: Cosmos always runs the dbt task group.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from main_image.engines import LoadedFile, Warehouse
from main_image.runs import RunParameters
from main_image.settings import DBT_PROJECT_DIR, FEEDS, LOADED_FEEDS, is_true

#: Set (to true/1) to run dbt on every run, as the DAG does.
ALWAYS_TRANSFORM_ENV = "MAIN_IMAGE_ALWAYS_TRANSFORM"

#: v1's freshness horizon in days (score_v1.sql; tests/test_transform_skip.py checks it).
V1_MAX_FRESHNESS_DAYS = 3650

#: The images whose v1 freshness term differs between two dates (parameters: later, earlier).
_FRESHNESS_MOVES = f"""
    select count(*)
    from staging.int_images_latest
    where
        created_date < ?
        and created_date + interval {V1_MAX_FRESHNESS_DAYS} day > ?
"""

#: The dbt project's files whose change may change what a build writes.
_PROJECT_PARTS = ("dbt_project.yml", "models", "macros", "seeds", "snapshots", "analyses")

_BUILDS_DDL = """
    create table if not exists raw.dbt_project_builds (
        invocation_seq bigint primary key,
        project_sha256 varchar not null,
        built_at timestamp not null
    )
"""

#: reporting.rpt_run_metrics's row of the run (parameters: run_id, as_of, scoring_version,
#: invocation_seq): the model's query (models/reporting/rpt_run_metrics.sql), read from the
#: relations its refs name.
METRICS_QUERY = """
    with

    runs as (
        select * from staging.stg_pipeline_runs
    ),

    last_completed_run as (
        select coalesce(max(invocation_seq), 0) as invocation_seq
        from runs
        where exported_at is not null and run_id != $1 and invocation_seq < $4
    ),

    counted_files as (
        select coalesce((
            select file_seq_watermark
            from runs
            where exported_at is not null and run_id != $1 and invocation_seq < $4
            order by invocation_seq desc
            limit 1
        ), 0) as after_file_seq
    ),

    counted_attempts as (
        select runs.invocation_seq
        from runs
        cross join last_completed_run
        where
            runs.invocation_seq > last_completed_run.invocation_seq
            and runs.invocation_seq <= $4
    ),

    images_processed as (
        select count(distinct image_id) as images_processed
        from staging.stg_images
        where
            rejection_reason is null
            and file_seq > (select counted_files.after_file_seq from counted_files)
            and invocation_seq in (select counted_attempts.invocation_seq from counted_attempts)
    ),

    hotels_with_images as (
        select count(distinct hotel_id) as hotels_with_images
        from staging.int_images_latest
        where is_active
    ),

    changes as (
        select
            cast(sum(case when change_type = 'new' then 1 else 0 end) as bigint)
                as main_images_new,
            cast(sum(case when change_type = 'updated' then 1 else 0 end) as bigint)
                as main_images_updated,
            cast(sum(case when change_type = 'deleted' then 1 else 0 end) as bigint)
                as main_images_deleted,
            cast(sum(case when selection_source = 'admin' then 1 else 0 end) as bigint)
                as main_images_from_overrides
        from marts.fct_main_image_changes
        where invocation_seq in (select counted_attempts.invocation_seq from counted_attempts)
    ),

    rejections as (
        select
            {rejected}
        from marts.fct_rejected_records
        where
            file_seq > (select counted_files.after_file_seq from counted_files)
            and invocation_seq in (select counted_attempts.invocation_seq from counted_attempts)
    ),

    final as (
        select
            $1 as run_id,
            cast($2 as date) as as_of,
            $3 as scoring_version,
            cast($4 as bigint) as last_invocation_seq,
            images_processed.images_processed,
            hotels_with_images.hotels_with_images,
            coalesce(changes.main_images_new, 0) as main_images_new,
            coalesce(changes.main_images_updated, 0) as main_images_updated,
            coalesce(changes.main_images_deleted, 0) as main_images_deleted,
            coalesce(changes.main_images_from_overrides, 0) as main_images_from_overrides,
            {coalesced}
        from images_processed
        cross join hotels_with_images
        cross join changes
        cross join rejections
    )

    select * from final
""".format(
    rejected=",\n            ".join(
        f"cast(sum(case when feed = '{feed}' then 1 else 0 end) as bigint) as rejected_{feed}"
        for feed in FEEDS
    ),
    coalesced=",\n            ".join(
        f"coalesce(rejections.rejected_{feed}, 0) as rejected_{feed}" for feed in FEEDS
    ),
)


@dataclass(frozen=True)
class Decision:
    """Whether dbt runs, and why (logged and kept with the run's stage timings)."""

    run_dbt: bool
    reason: str

    def message(self) -> str:
        return f"transform: {'dbt build' if self.run_dbt else 'skipped, nothing to do'}: " \
               f"{self.reason}"


def project_fingerprint() -> str:
    """sha256 over the paths and contents of the dbt project's files that shape a build."""
    digest = hashlib.sha256()
    for part in _PROJECT_PARTS:
        root = DBT_PROJECT_DIR / part
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def record_build(wh: Warehouse, invocation_seq: int, fingerprint: str) -> None:
    """dbt built the project with this fingerprint for the attempt (DuckDB)."""
    wh.execute(_BUILDS_DDL)
    wh.execute("delete from raw.dbt_project_builds where invocation_seq = ?", [invocation_seq])
    wh.execute(f"insert into raw.dbt_project_builds values (?, ?, {wh.now_sql})",
               [invocation_seq, fingerprint])


def _continues_last_build(wh: Warehouse, params: RunParameters, invocation_seq: int,
                          fingerprint: str) -> tuple[dict[str, Any] | None, str]:
    """The last completed attempt when this one continues it unchanged: it is the attempt just
    before, with the same scoring parameters, no full refresh and no shadow version, and the
    same dbt project built it. Otherwise (None, why not)."""
    if is_true(os.environ.get(ALWAYS_TRANSFORM_ENV, "")):
        return None, f"{ALWAYS_TRANSFORM_ENV} is set"
    if params.full_refresh:
        return None, "full refresh"
    if params.shadow_scoring_version:
        return None, "a shadow scoring version is set"
    rows = wh.fetch_dicts(
        "select * from raw.pipeline_runs where invocation_seq < ? and selection_completed_at "
        "is not null order by invocation_seq desc limit 1", [invocation_seq])
    if not rows:
        return None, "no completed run yet"
    last = rows[0]
    if last["invocation_seq"] != invocation_seq - 1:
        return None, "an attempt after the last completed run did not complete"
    for name in ("scoring_version", "tag_version_pin", "obiq_version_pin"):
        if (getattr(params, name) or "") != (last[name] or ""):
            return None, f"{name} differs from the last completed run's"
    wh.execute(_BUILDS_DDL)
    built = wh.scalar("select project_sha256 from raw.dbt_project_builds "
                      "order by invocation_seq desc limit 1")
    if built != fingerprint:
        return None, "the dbt project differs from the last build's"
    return last, ""


def idle_feeds(wh: Warehouse, params: RunParameters, invocation_seq: int,
               loaded: Sequence[LoadedFile], fingerprint: str) -> frozenset[str]:
    """The feeds that received no file since the last completed attempt, when the build may
    leave out the nodes under them (``idle_nodes``); none when in doubt."""
    last, _ = _continues_last_build(wh, params, invocation_seq, fingerprint)
    if last is None:
        return frozenset()
    return frozenset(LOADED_FEEDS) - {file.feed for file in loaded if not file.skipped}


def decide(wh: Warehouse, params: RunParameters, invocation_seq: int,
           loaded: Sequence[LoadedFile], fingerprint: str) -> Decision:
    """Run dbt unless it provably has nothing to do (see the module docstring)."""
    if is_true(os.environ.get(ALWAYS_TRANSFORM_ENV, "")):
        return Decision(True, f"{ALWAYS_TRANSFORM_ENV} is set")
    landed = sum(1 for file in loaded if not file.skipped)
    if landed and not params.full_refresh and not params.shadow_scoring_version:
        return Decision(True, f"{landed} file(s) landed")
    last, why_not = _continues_last_build(wh, params, invocation_seq, fingerprint)
    if last is None:
        return Decision(True, why_not)
    if landed:
        return Decision(True, f"{landed} file(s) landed")
    watermark = wh.scalar("select file_seq_watermark from raw.pipeline_runs "
                          "where invocation_seq = ?", [invocation_seq])
    if watermark != last["file_seq_watermark"]:
        return Decision(True, "files landed since the last completed run")
    previous: date = last["as_of"]
    if previous == params.as_of:
        return Decision(False, "no file landed and as_of unchanged")
    if params.scoring_version != "v1":
        return Decision(True, f"as_of moved ({previous} -> {params.as_of}) under scoring "
                              f"{params.scoring_version}")
    earlier, later = sorted((previous, params.as_of))
    moving = int(wh.scalar(_FRESHNESS_MOVES, [later, earlier]))
    if moving:
        return Decision(True, f"as_of moved ({previous} -> {params.as_of}): the freshness of "
                              f"{moving:,} image(s) moves")
    return Decision(False, f"no file landed and no image's freshness moves between {previous} "
                           f"and {params.as_of}")


def complete_without_dbt(wh: Warehouse, params: RunParameters, invocation_seq: int) -> None:
    """What a build with nothing in scope leaves for publishing: the run's metrics row and the
    completed selection."""
    wh.execute("delete from reporting.rpt_run_metrics where run_id = ?", [params.run_id])
    wh.execute(
        "insert into reporting.rpt_run_metrics by name " + METRICS_QUERY,
        [params.run_id, params.as_of, params.scoring_version, invocation_seq],
    )
    wh.mark_selection_completed(invocation_seq)

