"""A run with nothing new to do leaves dbt out (main_image/transform_skip.py, issue 11) and
publishes exactly what a dbt run would have: the same history run twice, once with the skip
allowed and once with MAIN_IMAGE_ALWAYS_TRANSFORM=1, gives byte-identical exports."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, PipelineHarness
from main_image import dbt_runner, transform_skip

REAL_RUN_DBT = dbt_runner.run_dbt


def image(image_id: int, hotel_id: int, created_at: str) -> str:
    return json.dumps({
        "hotel_id": hotel_id, "image_id": image_id,
        "cdn_url": f"https://cdn.example.com/{image_id}.jpg", "width": 1920 - image_id % 7,
        "height": 1080, "created_at": created_at, "is_active": True, "hash": "0123456789abcdef",
    })  # fmt: skip


#: Delivery 1: images older than v1's freshness horizon on every date below (s_fresh = 0), so
#: moving the date cannot move them. Delivery 2 adds a fresh image (its s_fresh moves daily).
OLD = {"images": [image(1001, 10, "2010-01-01"), image(1002, 10, "2011-05-01"),
                  image(1003, 11, "2012-03-03"), "not json"]}
FRESH = {"images": [image(1004, 11, "2024-06-01")]}

#: (delivery, as_of, dbt runs when the skip is allowed)
HISTORY: list[tuple[str | None, date, bool]] = [
    ("old", date(2024, 7, 1), True),  # first run
    ("old", date(2024, 7, 2), False),  # the same file (skipped); no image's freshness moves
    ("fresh", date(2024, 7, 2), True),  # a file landed
    (None, date(2024, 7, 2), False),  # nothing landed, same date
]


def run_history(root: Path, monkeypatch: pytest.MonkeyPatch, always: bool) -> dict[str, Any]:
    """Run HISTORY on a fresh warehouse; returns every run's export files, the dbt calls per
    run and the registry."""
    if always:
        monkeypatch.setenv(transform_skip.ALWAYS_TRANSFORM_ENV, "1")
    else:
        monkeypatch.delenv(transform_skip.ALWAYS_TRANSFORM_ENV, raising=False)
    harness = PipelineHarness(root=root, warehouse=root / "warehouse.duckdb", dbt_command="run")
    deliveries = {"old": harness.write_files("old", OLD),
                  "fresh": harness.write_files("fresh", FRESH)}
    calls: list[int] = []

    def counting_run_dbt(*args: Any, **kwargs: Any) -> Any:
        calls[-1] += 1
        return REAL_RUN_DBT(*args, **kwargs)

    monkeypatch.setattr(dbt_runner, "run_dbt", counting_run_dbt)
    exports, decisions = [], []
    for delivery, as_of, _ in HISTORY:
        calls.append(0)
        result = harness.run(deliveries[delivery] if delivery else {}, as_of)
        decisions.append(result.transform_decision)
        exports.append({name: Path(result.outputs.location(name)).read_bytes()
                        for name in ("changes", "snapshot", "metrics")})
    registry = harness.query(
        "select invocation_seq, run_id, as_of, file_seq_watermark, "
        "selection_completed_at is not null, exported_at is not null from raw.pipeline_runs "
        "order by invocation_seq")
    metrics_table = harness.query("select * from reporting.rpt_run_metrics order by run_id")
    publications = harness.query("select invocation_seq, run_id, metrics "
                                 "from raw.pipeline_publications order by invocation_seq")
    return {"exports": exports, "calls": calls, "decisions": decisions, "registry": registry,
            "metrics_table": metrics_table, "publications": publications, "harness": harness}


def next_decision(harness: PipelineHarness, fingerprint: str | None = None,
                  **params: Any) -> transform_skip.Decision:
    """The decision of the next attempt (registered, nothing landed, not run)."""
    from main_image.engines import open_warehouse
    from main_image.pipeline import begin_attempt
    from main_image.runs import RunParameters

    run = RunParameters(**{"run_id": "next", "as_of": date(2024, 7, 2), **params})
    seq, loaded = begin_attempt(harness.warehouse, run, {})
    with open_warehouse(harness.warehouse, None) as wh:
        decision = transform_skip.decide(wh, run, seq, loaded,
                                         fingerprint or transform_skip.project_fingerprint())
        wh.execute("delete from raw.pipeline_runs where invocation_seq = ?", [seq])
    return decision


def test_a_skipped_transform_publishes_what_dbt_would(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    skipping = run_history(tmp_path / "skip", monkeypatch, always=False)
    forced = run_history(tmp_path / "always", monkeypatch, always=True)

    assert forced["calls"] == [1] * len(HISTORY)
    assert skipping["calls"] == [int(runs_dbt) for _, _, runs_dbt in HISTORY]
    assert [d.run_dbt for d in skipping["decisions"]] == [r for _, _, r in HISTORY]
    assert skipping["decisions"][1].reason.startswith("no file landed and no image's freshness")
    assert skipping["decisions"][3].reason == "no file landed and as_of unchanged"
    assert all(d.reason.endswith("is set") for d in forced["decisions"])

    for number, (skipped, built) in enumerate(zip(skipping["exports"], forced["exports"],
                                                  strict=True), start=1):
        assert skipped == built, f"run {number}'s exports differ"
    assert json.loads(skipping["exports"][1]["metrics"])["as_of"] == "2024-07-02"
    assert skipping["exports"][0]["snapshot"].count(b"\n") == 2, "both hotels have a main image"
    assert skipping["exports"][2]["changes"], "the fresh image must change a main image"
    for key in ("registry", "metrics_table", "publications"):
        assert skipping[key] == forced[key], key
    assert all(row[4] and row[5] for row in skipping["registry"])

    # what else makes the next run build: the date moving past the fresh image, and any
    # parameter or project change
    harness = skipping["harness"]
    monkeypatch.delenv(transform_skip.ALWAYS_TRANSFORM_ENV)
    assert not next_decision(harness).run_dbt
    moved = next_decision(harness, as_of=date(2024, 7, 3))
    assert moved.run_dbt and "freshness of 1 image(s) moves" in moved.reason, moved
    for params in ({"full_refresh": True}, {"shadow_scoring_version": "v2"},
                   {"scoring_version": "v2"}, {"tag_version_pin": "v1-0-0"}):
        assert next_decision(harness, **params).run_dbt, params
    assert next_decision(harness, fingerprint="another project").run_dbt


def test_v1_freshness_horizon_is_the_models() -> None:
    """The skip's rule assumes v1's s_fresh horizon; it must be the macros' one."""
    for macro in ("score_v1.sql", "score_terms_v1.sql"):
        text = (REPO / "dbt_project" / "macros" / "scoring" / macro).read_text()
        assert f"/ {transform_skip.V1_MAX_FRESHNESS_DAYS}.0" in text, macro


# --- nodes without work (main_image/idle_nodes.py) ---------------------------------------------

def test_only_incremental_chains_of_idle_feeds_are_left_out() -> None:
    """The rule on a small graph: an incremental model is left out when every feed and model
    above it is idle; a table (and what reads it), a busy feed, or an unknown source keeps it."""
    from main_image.idle_nodes import Node, exclude_arguments, nodes_without_work

    def model(name: str, *parents: str, materialized: str = "incremental") -> tuple[str, Node]:
        return f"model.p.{name}", Node(name, "model", materialized, parents)

    graph = dict([
        ("source.p.raw.user_events", Node("user_events", "source", source_name="raw")),
        ("source.p.raw.images", Node("images", "source", source_name="raw")),
        ("source.p.raw.pipeline_runs", Node("pipeline_runs", "source", source_name="raw")),
        ("source.p.other.user_events", Node("user_events", "source", source_name="other")),
        ("seed.p.priorities", Node("priorities", "seed")),
        model("stg_user_events", "source.p.raw.user_events", "source.p.raw.pipeline_runs"),
        model("stg_images", "source.p.raw.images"),
        model("int_events", "model.p.stg_user_events", "seed.p.priorities"),
        model("rpt_events", "model.p.int_events", materialized="table"),
        model("rpt_after_table", "model.p.rpt_events"),
        model("int_both", "model.p.stg_user_events", "model.p.stg_images"),
        model("int_foreign", "source.p.other.user_events"),
        ("test.p.not_null_int_events", Node("not_null_int_events", "test",
                                            parents=("model.p.int_events",))),
        ("test.p.rel_events_images", Node("rel_events_images", "test",
                                          parents=("model.p.int_events", "model.p.stg_images"))),
        ("test.p.source_unique", Node("source_unique", "test",
                                      parents=("source.p.raw.user_events",))),
    ])  # fmt: skip
    left_out = nodes_without_work(graph, {"user_events"})
    # int_events is quiet, but the test relating it to the busy stg_images must run, and dbt
    # would leave that test out with it: it stays in the build
    assert left_out == ["model.p.stg_user_events", "test.p.not_null_int_events"]
    assert exclude_arguments(graph, left_out) == [
        "--exclude", "not_null_int_events", "stg_user_events"]
    without_relation = {k: v for k, v in graph.items() if k != "test.p.rel_events_images"}
    assert nodes_without_work(without_relation, {"user_events"}) == [
        "model.p.int_events", "model.p.stg_user_events", "test.p.not_null_int_events"]
    both_idle = nodes_without_work(graph, {"user_events", "images"})
    assert "model.p.int_both" in both_idle and "test.p.rel_events_images" in both_idle
    assert "model.p.rpt_after_table" not in both_idle and "model.p.int_foreign" not in both_idle
    assert nodes_without_work(graph, set()) == []
    assert exclude_arguments(graph, []) == []


NODE_HISTORY_FILES = {
    "old": OLD,
    "fresh": FRESH,
    "events": {"user_events": [
        json.dumps({"event_id": "e1", "event_type": "click", "occurred_at": "2024-07-01T10:00:00Z",
                    "hotel_id": 10, "image_id": 1001, "search_term": "Pool ", "user_id": "u1"}),
        json.dumps({"event_id": "e2", "event_type": "search", "occurred_at": "2024-07-01T11:00:00Z",
                    "hotel_id": 10, "search_term": "rome", "user_id": "u2"}),
        "{broken",
    ]},
}

#: (delivery, as_of): run 1 builds everything; the others leave out the idle feeds' nodes
NODE_HISTORY: list[tuple[str | None, date]] = [
    ("old", date(2024, 7, 1)),
    ("fresh", date(2024, 7, 2)),  # images busy, events idle
    ("events", date(2024, 7, 3)),  # events busy, images idle (the date moves the fresh image)
    (None, date(2024, 7, 4)),  # nothing landed, the date moves: dbt runs, every feed idle
]

#: columns that hold the wall clock of the run, not data
WALL_CLOCK_COLUMNS = {"loaded_at", "started_at", "selection_completed_at", "exported_at",
                      "built_at", "published_at", "drained_at"}


def every_table(harness: PipelineHarness) -> dict[str, list[tuple]]:
    """Every table of the dbt schemas, rows sorted, wall-clock columns left out, the harness's
    folder in file names replaced."""
    tables = harness.query(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('staging', 'marts', 'reporting') and table_type = 'BASE TABLE' "
        "order by 1, 2")
    contents = {}
    for schema, table in tables:
        columns = [name for (name,) in harness.query(
            "select column_name from information_schema.columns where table_schema = ? "
            "and table_name = ? order by ordinal_position", [schema, table])
            if name not in WALL_CLOCK_COLUMNS]
        select = ", ".join(f'"{name}"' for name in columns)
        rows = [tuple(value.replace(str(harness.root), "<root>") if isinstance(value, str)
                      else value for value in row)
                for row in harness.query(f'select {select} from "{schema}"."{table}"')]
        contents[f"{schema}.{table}"] = sorted(rows, key=repr)
    return contents


def test_nodes_of_idle_feeds_are_left_out_with_the_same_tables(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same history with the idle feeds' nodes left out and with every node built leaves
    every table of staging, marts and reporting equal, and the same exports."""
    from main_image import idle_nodes

    real = idle_nodes.nodes_without_work
    results: dict[bool, dict[str, Any]] = {}
    for always in (False, True):
        if always:
            monkeypatch.setenv(transform_skip.ALWAYS_TRANSFORM_ENV, "1")
        else:
            monkeypatch.delenv(transform_skip.ALWAYS_TRANSFORM_ENV, raising=False)
        left_out: list[list[str]] = []

        def recording(graph: Any, idle: Any, left_out: list = left_out) -> list[str]:
            left_out[-1] = real(graph, idle)
            return left_out[-1]

        monkeypatch.setattr(idle_nodes, "nodes_without_work", recording)
        root = tmp_path / ("always" if always else "idle")
        harness = PipelineHarness(root=root, warehouse=root / "warehouse.duckdb")
        deliveries = {name: harness.write_files(name, files)
                      for name, files in NODE_HISTORY_FILES.items()}
        exports = []
        for delivery, as_of in NODE_HISTORY:
            left_out.append([])
            result = harness.run(deliveries[delivery] if delivery else {}, as_of)
            assert result.transform_decision.run_dbt, result.transform_decision
            exports.append({name: Path(result.outputs.location(name)).read_bytes()
                            for name in ("changes", "snapshot", "metrics")})
        results[always] = {"left_out": left_out, "exports": exports,
                           "tables": every_table(harness)}

    assert all(not nodes for nodes in results[True]["left_out"]), "nothing is left out"
    first, images_busy, events_busy, all_idle = results[False]["left_out"]
    assert first == []
    assert "model.main_image.stg_user_events" in images_busy
    assert "model.main_image.stg_images" not in images_busy
    assert "model.main_image.stg_user_events" not in events_busy
    assert {"model.main_image.stg_images", "model.main_image.int_images_latest",
            "model.main_image.stg_obiq_scores"} <= set(events_busy)
    assert any(node.startswith("test.") for node in events_busy)
    assert "model.main_image.int_hotels_in_scope" not in all_idle, "tables always run"
    assert "model.main_image.fct_rejected_records" in all_idle
    assert results[False]["exports"] == results[True]["exports"]
    left, right = results[False]["tables"], results[True]["tables"]
    assert left.keys() == right.keys()
    for table in left:
        assert left[table] == right[table], table
    assert left["staging.int_user_events_deduplicated"], "the history must reach the events"
