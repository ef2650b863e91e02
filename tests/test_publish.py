"""Publication: one path for the CLI and the DAG, and exactly-once exports across clears.

Drives the DAG's task functions (tests/dag_driver.py, no scheduler) on the DuckDB warehouse:
run A publishes, run B publishes, A is cleared (a new attempt), B is cleared, A is cleared from
`publish` only. Every export file must stay byte-identical, and the changes exports, applied in
order to the initial main images, must give the snapshot (contract §5, §6 invariants 4 and 8).
The CLI, given the same history, must write the very same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from dag_driver import config_from, guard, run_like_the_dag
from main_image import exports, pipeline
from main_image import orchestration as orch
from main_image.cli import main as cli_main
from reference import apply_changes

RUNS = {"A": date(2024, 7, 1), "B": date(2024, 7, 2)}


def _image(image_id: int, hotel_id: int, **fields: object) -> str:
    record = {
        "hotel_id": hotel_id, "image_id": image_id,
        "cdn_url": f"https://cdn.example.com/{image_id}.jpg", "width": 1920, "height": 1080,
        "created_at": "2024-06-01", "is_active": True, "hash": "0123456789abcdef",
    }  # fmt: skip
    record.update(fields)
    return json.dumps(record)


#: Delivery 1: three hotels, one with a current main image; delivery 2: a better image for
#: hotel 1, hotel 3's only image deactivated, a new hotel 4 (new, updated and deleted records).
DELIVERIES = {
    "A": {
        "images": [_image(1001, 1, width=800, height=600), _image(2001, 2), _image(3001, 3)],
        "main_images": [json.dumps({"key": {"hotel_id": 2},
                                    "value": {"image_id": 9, "cdn_url": "https://x/9"}})],
    },
    "B": {
        "images": [_image(1002, 1), _image(3001, 3, is_active=False), _image(4001, 4)],
    },
}


def write_delivery(landing: Path, run: str) -> dict[str, list[Path]]:
    files = {}
    for feed, lines in DELIVERIES[run].items():
        path = landing / feed / f"{run}-part-00000.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        files[feed] = [path]
    return files


def export_bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / file).read_bytes() for name, file in orch.EXPORT_FILES.items()}


@dataclass
class DagHistory:
    config: orch.Config
    first: dict[str, dict[str, bytes]]  # the files each run wrote when it first published
    after_clears: dict[str, dict[str, bytes]]
    superseded_publish: Exception | None
    snapshot: dict[int, tuple[int, str]]


@pytest.fixture(scope="module")
def publish_calls() -> list[str]:
    return []


@pytest.fixture(scope="module")
def dag_history(tmp_path_factory: pytest.TempPathFactory,
                publish_calls: list[str]) -> Iterator[DagHistory]:
    work = tmp_path_factory.mktemp("dag")
    with pytest.MonkeyPatch.context() as monkeypatch:
        config = config_from(monkeypatch, {
            "MAIN_IMAGE_WAREHOUSE": str(work / "warehouse.duckdb"),
            "MAIN_IMAGE_LANDING_DIR": str(work / "landing"),
            "MAIN_IMAGE_EXPORTS_DIR": str(work / "exports"),
        })
        spy_publish(monkeypatch, publish_calls, "dag")
        folders = {run: Path(config.export_location(run)) for run in RUNS}
        first = {}
        for run, run_date in RUNS.items():
            write_delivery(config.landing_dir, run)
            run_like_the_dag(config, run, run_date, tests=False)
            first[run] = export_bytes(folders[run])
        # clear A, clear B (whole runs: new attempts), then A from `publish` only
        last = {run: run_like_the_dag(config, run, RUNS[run], tests=False) for run in RUNS}
        try:
            guard(config, "publish", last["A"].registration)
            superseded: Exception | None = None
        except Exception as error:  # AirflowFailException: cleared from publish, superseded
            superseded = error
        # the publish function itself, run anyway, must not rewrite anything either
        orch.publish_attempt(config, "A", int(last["A"].registration["invocation_seq"]))
        with config.open_warehouse(read_only=True) as wh:
            snapshot = {hotel: (image, url) for hotel, image, url in wh.fetchall(
                "select hotel_id, image_id, cdn_url from marts.fct_main_image_snapshot")}
        after = {run: export_bytes(folder) for run, folder in folders.items()}
        yield DagHistory(config, first, after, superseded, snapshot)


def spy_publish(monkeypatch: pytest.MonkeyPatch, calls: list[str], driver: str) -> None:
    """Record each call of the one publish function (``pipeline.publish``)."""
    real = exports.publish

    def spy(*args: object, **kwargs: object) -> exports.Published:
        calls.append(driver)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "publish", spy)


def test_the_history_exercises_every_change_type(dag_history: DagHistory) -> None:
    kinds = set()
    with dag_history.config.open_warehouse(read_only=True) as wh:
        kinds = {row[0] for row in wh.fetchall(
            "select distinct change_type from marts.fct_main_image_changes")}
    assert kinds == {"new", "updated", "deleted"}
    for run in RUNS:
        assert dag_history.first[run]["changes"], f"run {run} published no change"


def test_clearing_any_run_leaves_every_export_byte_identical(dag_history: DagHistory) -> None:
    for run in RUNS:
        for name in orch.EXPORT_FILES:
            assert dag_history.after_clears[run][name] == dag_history.first[run][name], (
                f"clearing rewrote run {run}'s {name}")
    assert dag_history.superseded_publish is not None
    assert "superseded" in str(dag_history.superseded_publish)


def test_the_changes_exports_replay_to_the_snapshot(dag_history: DagHistory) -> None:
    replayed: dict[int, tuple[int, str]] = {}
    apply_changes(replayed, DELIVERIES["A"]["main_images"])
    for run in RUNS:
        apply_changes(replayed, dag_history.after_clears[run]["changes"].decode().splitlines())
    assert replayed == dag_history.snapshot
    snapshot_file: dict[int, tuple[int, str]] = {}
    apply_changes(snapshot_file, dag_history.after_clears["B"]["snapshot"].decode().splitlines())
    assert snapshot_file == dag_history.snapshot


def test_the_cli_and_the_dag_publish_through_one_path(
    dag_history: DagHistory, publish_calls: list[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Same history through `main-image run`: the same function publishes, the same bytes."""
    spy_publish(monkeypatch, publish_calls, "cli")
    landing = tmp_path / "landing"
    for run, run_date in RUNS.items():
        files = write_delivery(landing, run)
        flags = [arg for feed, paths in files.items()
                 for arg in (f"--{'tags' if feed == 'image_tags' else feed}", str(paths[0]))]
        out = tmp_path / "exports" / run
        assert cli_main([
            "run", *flags, "--run-id", run, "--as-of", run_date.isoformat(),
            "--warehouse", str(tmp_path / "warehouse.duckdb"),
            "--output-cdc", str(out / "changes.jsonl"),
            "--output-snapshot", str(out / "snapshot.jsonl"),
            "--output-metrics", str(out / "metrics.json"),
        ]) == 0
        assert export_bytes(out) == dag_history.first[run], f"run {run}"
    assert publish_calls.count("dag") == 5 and publish_calls.count("cli") == 2
