"""The serving copy of the image service (issue 13): after any history of runs, with a crash at
any stage of one run and its rerun, and a finished run cleared and run again, the change feed
read from cursor zero is the concatenation of the runs' changes exports (each change once, in
emission order), and the main images it serves are the snapshot's.

Histories are drawn from the property test's deliveries (tests/test_properties.py); the crash
is ``MAIN_IMAGE_FAULT_AT=<point>:raise`` at one of the stage boundaries, the serving step
included (files published, the database not yet written: the next publication catches up).
Sized for the suite: MAIN_IMAGE_SERVING_EXAMPLES (default 3) histories of 2 to 3 runs.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import date, timedelta
from pathlib import Path

from conftest import PipelineHarness, read_jsonl, serving_feed, serving_main_images
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from main_image.faults import ENV_VAR, InjectedFault
from test_properties import FEEDS, deliveries, event_lines

EXAMPLES = int(os.environ.get("MAIN_IMAGE_SERVING_EXAMPLES", "3"))
START = date(2024, 7, 1)
CRASH_POINTS = ["landed", "selected", "export-written-snapshot", "export-renamed-metrics",
                "serving"]  # fmt: skip


def crash_run(harness: PipelineHarness, point: str, *args, **kwargs) -> None:
    os.environ[ENV_VAR] = f"{point}:raise"
    try:
        harness.run(*args, **kwargs)
    except InjectedFault:
        return
    finally:
        del os.environ[ENV_VAR]
    raise AssertionError(f"the run did not stop at {point}")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    history=st.lists(deliveries, min_size=2, max_size=3),
    crash=st.tuples(st.integers(min_value=0, max_value=2), st.sampled_from(CRASH_POINTS)),
)
def test_the_feed_is_the_exports_after_crashes_and_reruns(
    history: list[dict], crash: tuple[int, str]
) -> None:
    crash_at, point = crash[0] % len(history), crash[1]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        serving = f"sqlite:///{root / 'service.db'}"
        harness = PipelineHarness(root=root, warehouse=root / "warehouse.duckdb",
                                  dbt_command="run", serving_url=serving)  # fmt: skip
        as_of = START
        for number, delivery in enumerate(history, start=1):
            as_of += timedelta(days=delivery["days_later"])
            lines = {**delivery, "user_events": event_lines(number, delivery["events"], as_of)}
            files = harness.write_files(f"d{number:02d}", {feed: lines[feed] for feed in FEEDS})
            run_id = f"run-{number}"
            if number - 1 == crash_at:
                crash_run(harness, point, files, as_of, run_id=run_id)
            harness.run(files, as_of, run_id=run_id)  # the rerun of a crashed run, same id
        # a finished run cleared and run again (Airflow's "clear"): nothing is copied twice
        harness.run({}, as_of, run_id=f"run-{len(history)}")

        last_export: dict[str, Path] = {}
        for result in harness.runs:  # in order; a run id's latest export holds all of its lines
            last_export[result.run_id] = result.outputs.changes
        exported = [change for path in last_export.values() for change in read_jsonl(path)]
        assert serving_feed(serving) == exported, f"crash at {point} in run {crash_at + 1}"
        assert serving_main_images(serving) == harness.snapshot()


def test_a_republished_run_copies_nothing(tmp_path: Path) -> None:
    """Publishing an attempt again (the publish task retried) adds no change and no row."""
    from main_image.engines import open_warehouse
    from main_image.serving_publish import publish_serving

    serving = f"sqlite:///{tmp_path / 'service.db'}"
    harness = PipelineHarness(root=tmp_path, warehouse=tmp_path / "warehouse.duckdb",
                              dbt_command="run", serving_url=serving)  # fmt: skip
    image = {"hotel_id": 1, "image_id": 1000, "cdn_url": "https://cdn.example.com/1000.jpg",
             "width": 800, "height": 600, "created_at": "2024-06-01", "is_active": True,
             "hash": "00000000000003e8"}  # fmt: skip
    files = harness.write_files("d1", {"images": [json.dumps(image)]})
    harness.run(files, START)
    with open_warehouse(harness.warehouse, None) as wh:
        again = publish_serving(wh, serving)
    assert (again.runs, again.changes, again.hotels) == (0, 0, 0)
    assert serving_feed(serving) == read_jsonl(harness.runs[0].outputs.changes)
    assert serving_main_images(serving) == {1: (1000, image["cdn_url"])}


def test_a_second_warehouse_is_refused_by_the_first_ones_serving_copy(tmp_path: Path) -> None:
    """Positions and watermarks belong to one warehouse: another one publishing into the same
    database fails its run with one line naming both, instead of a silently stale copy."""
    import pytest
    from main_image.serving_publish import ServingCopyMismatch, reset_serving_copy

    serving = f"sqlite:///{tmp_path / 'service.db'}"
    image = json.dumps({"hotel_id": 1, "image_id": 1000, "cdn_url": "https://c.example/1.jpg",
                        "width": 800, "height": 600, "created_at": "2024-06-01",
                        "is_active": True, "hash": "00000000000003e8"})  # fmt: skip
    first = PipelineHarness(root=tmp_path / "a", warehouse=tmp_path / "a.duckdb",
                            dbt_command="run", serving_url=serving)  # fmt: skip
    first.run(first.write_files("d1", {"images": [image]}), START)
    second = PipelineHarness(root=tmp_path / "b", warehouse=tmp_path / "b.duckdb",
                             dbt_command="run", serving_url=serving)  # fmt: skip
    files = second.write_files("d1", {"images": [image]})
    with pytest.raises(ServingCopyMismatch, match="published from another warehouse"):
        second.run(files, START, run_id="other-1")
    reset_serving_copy(serving)  # what the demo does for its new warehouse
    second.run({}, START, run_id="other-2")
    assert serving_main_images(serving) == {1: (1000, "https://c.example/1.jpg")}
    assert len(serving_feed(serving)) == 1
