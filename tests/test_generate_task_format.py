"""`main-image generate --format task`: the original task's three files, in the shape of its
public example data (../shared/conformance/trivago-task/, skipped when absent) and its schemas.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from main_image.cli import main
from main_image.dev.generate.task_format import generate_task

jsonschema_rs = pytest.importorskip("jsonschema_rs")

FILES = {"images": "image.json", "image_tags": "image_tags.json", "main_images": "main_image.json"}


def shape(value: Any) -> Any:
    """The JSON shape of a value: key -> shape for objects, the set of item shapes for lists."""
    if isinstance(value, dict):
        return tuple(sorted((key, shape(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("list", tuple(sorted({shape(item) for item in value}, key=repr)))
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def schema_of(conformance_dir: Path, feed: str) -> dict:
    schema = json.loads((conformance_dir / "schemas" / FILES[feed]).read_text())
    if feed == "main_images":  # the schema spells Key/Value, the example data key/value
        schema["properties"] = {k.lower(): v for k, v in schema["properties"].items()}
        schema["required"] = [name.lower() for name in schema["required"]]
    return schema


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def top_shapes(lines: list[dict], feed: str) -> set:
    """Shapes with the optional parts folded: an empty tag list, a null main image."""
    if feed == "image_tags":
        return {shape(t) for r in lines for t in r["tags"]} | {shape(list(r)) for r in lines}
    if feed == "main_images":
        return {shape(r["key"]) for r in lines} | {shape(r["value"]) for r in lines if r["value"]}
    return {shape(r) for r in lines}


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("task")
    code = main(["generate", "--format", "task", "--hotels", "2000", "--seed", "5",
                 "--malformed-rate", "0", "--out", str(out)])
    assert code == 0
    return out


def test_only_the_three_files_are_written(task_dir: Path) -> None:
    assert sorted(p.name for p in task_dir.iterdir()) == [
        "image_tags.jsonl", "images.jsonl", "main_images.jsonl"
    ]


def test_every_line_fits_the_task_schemas(task_dir: Path, conformance_dir: Path) -> None:
    for feed in FILES:
        validator = jsonschema_rs.validator_for(schema_of(conformance_dir, feed))
        lines = records(task_dir / f"{feed}.jsonl")
        assert lines, feed
        for record in lines:
            if not validator.is_valid(record):
                pytest.fail(f"{feed}: {record}: {next(validator.iter_errors(record)).message}")


def test_the_shape_equals_the_example_data(task_dir: Path, conformance_dir: Path) -> None:
    for feed in FILES:
        example = []
        for line in (conformance_dir / f"{feed}.jsonl").read_text().splitlines():
            record = json.loads(line)
            if feed != "images" or isinstance(record.get("image_id"), int):
                example.append(record)
        generated = records(task_dir / f"{feed}.jsonl")
        assert top_shapes(generated, feed) == top_shapes(example, feed), feed
        assert {len(r["created_at"]) for r in generated if feed == "images"} <= {10}


def test_size_and_references(task_dir: Path) -> None:
    images = records(task_dir / "images.jsonl")
    per_hotel = Counter(r["hotel_id"] for r in images)
    assert 10 < len(images) / 2000 < 15  # 100k hotels: about 1.22M images
    assert max(per_hotel.values()) > 100 and set(per_hotel) <= set(range(1, 2001))
    owner = {r["image_id"]: r["hotel_id"] for r in images}
    assert len(owner) == len(images)
    tags = records(task_dir / "image_tags.jsonl")
    assert 0.9 < len(tags) / len(images) <= 1 and all(r["image_id"] in owner for r in tags)
    assert 0.2 < sum(not r["tags"] for r in tags) / len(tags) < 0.35
    assert {t["version"] for r in tags for t in r["tags"]} == {"v4-0-0"}
    main_images = records(task_dir / "main_images.jsonl")
    known = [r for r in main_images if r["value"] and r["value"]["image_id"] in owner]
    assert known and all(owner[r["value"]["image_id"]] == r["key"]["hotel_id"] for r in known)
    assert any(r["value"] is None for r in main_images)


def test_same_seed_same_bytes_and_malformed_lines_are_extra(tmp_path: Path) -> None:
    first = generate_task(300, tmp_path / "a", seed=9, malformed_rate=0.01)
    again = generate_task(300, tmp_path / "b", seed=9, malformed_rate=0.01)
    for feed, path in first.files.items():
        assert path.read_bytes() == again.files[feed].read_bytes()
    assert first.malformed["images"] > 0
    assert first.lines["images"] == len((tmp_path / "a" / "images.jsonl").read_text().splitlines())
