"""The public data set of the original task gives exactly the contract's example figures."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from conftest import PipelineHarness, read_jsonl
from reference import Inputs, select_main_images

AS_OF = date(2024, 7, 3)


@pytest.fixture(scope="module")
def conformance_run(conformance_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("conformance")
    harness = PipelineHarness(root=root, warehouse=root / "warehouse.duckdb")
    files = {
        "images": [conformance_dir / "images.jsonl"],
        "image_tags": [conformance_dir / "image_tags.jsonl"],
        "main_images": [conformance_dir / "main_images.jsonl"],
    }
    result = harness.run(files, AS_OF, run_id="conformance")
    return harness, result


def test_metrics_are_the_spec_example(conformance_run) -> None:
    _, result = conformance_run
    metrics = result.metrics
    assert metrics["as_of"] == "2024-07-03"
    assert metrics["images_processed"] == 1099
    assert metrics["hotels_with_images"] == 10
    assert metrics["main_images"] == {"new": 3, "updated": 7, "deleted": 4}
    assert metrics["rejected_records"]["images"] == 5
    assert sum(metrics["rejected_records"].values()) == 5
    assert read_jsonl(result.outputs.metrics) == [metrics]


def test_changes_name_the_spec_hotels(conformance_run) -> None:
    harness, result = conformance_run
    rows = harness.query(
        "select hotel_id, change_type from marts.fct_main_image_changes order by hotel_id"
    )
    by_type: dict[str, list[int]] = {}
    for hotel_id, change_type in rows:
        by_type.setdefault(change_type, []).append(hotel_id)
    assert by_type["new"] == [6998, 6999, 7005]
    assert by_type["deleted"] == [7011, 7012, 7013, 7014]
    assert len(by_type["updated"]) == 7
    exported = read_jsonl(result.outputs.changes)
    assert len(exported) == 14
    deleted = [record["key"]["hotel_id"] for record in exported if record["value"] is None]
    assert deleted == [7011, 7012, 7013, 7014]


def test_rejections_carry_reason_file_and_line(conformance_run, conformance_dir: Path) -> None:
    harness, _ = conformance_run
    rows = harness.query(
        "select feed, line_number, rejection_reason, line, file_name "
        "from marts.fct_rejected_records order by line_number"
    )
    assert Counter(reason for _, _, reason, _, _ in rows) == {
        "invalid_cdn_url": 3,
        "invalid_image_id": 1,
        "invalid_hash": 1,
    }
    assert [line_number for _, line_number, _, _, _ in rows] == [287, 288, 289, 305, 722]
    source_lines = (conformance_dir / "images.jsonl").read_text().splitlines()
    for feed, line_number, _, line, file_name in rows:
        assert feed == "images"
        assert file_name.endswith("images.jsonl")
        assert line == source_lines[line_number - 1]


def test_snapshot_matches_the_reference_selection(conformance_run, conformance_dir: Path) -> None:
    harness, result = conformance_run
    inputs = Inputs(
        images=(conformance_dir / "images.jsonl").read_text().splitlines(),
        image_tags=(conformance_dir / "image_tags.jsonl").read_text().splitlines(),
    )
    expected = select_main_images(inputs, AS_OF)
    assert harness.snapshot() == {
        hotel_id: (selection.image_id, selection.cdn_url)
        for hotel_id, selection in expected.items()
    }
    exported = {
        record["key"]["hotel_id"]: (record["value"]["image_id"], record["value"]["cdn_url"])
        for record in read_jsonl(result.outputs.snapshot)
    }
    assert exported == harness.snapshot()


def test_scores_match_the_reference(conformance_run, conformance_dir: Path) -> None:
    harness, _ = conformance_run
    inputs = Inputs(
        images=(conformance_dir / "images.jsonl").read_text().splitlines(),
        image_tags=(conformance_dir / "image_tags.jsonl").read_text().splitlines(),
    )
    expected = select_main_images(inputs, AS_OF)
    rows = harness.query(
        "select hotel_id, score from marts.fct_main_image_changes where score is not null"
    )
    assert rows
    for hotel_id, score in rows:
        assert score == pytest.approx(expected[hotel_id].score, abs=1e-12)
