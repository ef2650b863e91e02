"""Scoring versions beyond v1: the Python model v3 on a tiny fixture, its training, and shadow
scoring (the shadow report equals what switching the active version does)."""

from __future__ import annotations

import importlib.util
import json
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from conftest import REPO, PipelineHarness
from main_image.scoring.training import (
    FEATURES,
    TrainingConfig,
    TrainingError,
    fit_ridge,
    read_artifacts,
    train,
)

V3_MODEL = REPO / "dbt_project" / "models" / "intermediate" / "int_images_scored_v3.py"


def load_v3():
    spec = importlib.util.spec_from_file_location("int_images_scored_v3", V3_MODEL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Relation:
    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame

    def pl(self) -> pl.DataFrame:
        return self.frame


class FakeDbt:
    """What dbt-duckdb hands a Python model: config() and ref() returning relations."""

    def __init__(self, tables: dict[str, pl.DataFrame]) -> None:
        self.tables = tables

    def config(self, **_: object) -> None:
        pass

    def ref(self, name: str) -> Relation:
        return Relation(self.tables[name])


FEATURE_ROWS = pl.DataFrame(
    {
        "image_id": [1001, 1002],
        "hotel_id": [1, 1],
        "s_res": [1.0, 0.5],
        "s_ar": [1, 0],
        "s_fresh": [0.9, 0.1],
        "s_tag": [1.0, 0.0],
        "s_obiq": [0.5, 0.9],
        "s_ctr": [0.5, 0.7],
        "s_report": [0, 1],
    }
)
COEFFICIENTS = pl.DataFrame(
    {
        "model_version": ["m1", "m1", "m1", "m9"],
        "term": ["intercept", "s_res", "s_ctr", "intercept"],
        "coefficient": [0.1, 2.0, -1.0, 5.0],
    }
)


def versions(*rows: tuple[str, str, str | None, str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema=["scoring_version", "scoring_role", "python_model", "artifact_version"],
        orient="row",
    )


def test_v3_scores_each_candidate_with_its_artifact() -> None:
    dbt = FakeDbt(
        {
            "int_scoring_versions_in_run": versions(
                ("v1", "active", None, None), ("v3-m1", "shadow", "int_images_scored_v3", "m1")
            ),
            "scoring_v3_coefficients": COEFFICIENTS,
            "int_image_score_features": FEATURE_ROWS,
        }
    )
    result = load_v3().model(dbt, None).sort("image_id")
    assert result["scoring_version"].to_list() == ["v3-m1", "v3-m1"]
    # 0.1 + 2 * s_res - 1 * s_ctr
    assert result["score"].to_list() == pytest.approx([0.1 + 2.0 - 0.5, 0.1 + 1.0 - 0.7])
    terms = json.loads(result["score_terms"][1])
    assert terms == pytest.approx({"s_res": 1.0, "s_ctr": -0.7})


def test_v3_writes_nothing_when_the_run_does_not_use_it() -> None:
    dbt = FakeDbt(
        {
            "int_scoring_versions_in_run": versions(("v2", "active", None, None)),
            "scoring_v3_coefficients": COEFFICIENTS,
            "int_image_score_features": FEATURE_ROWS,
        }
    )
    result = load_v3().model(dbt, None)
    assert result.is_empty()
    assert result.schema == load_v3().SCHEMA


def test_v3_names_a_missing_artifact() -> None:
    dbt = FakeDbt(
        {
            "int_scoring_versions_in_run": versions(
                ("v3-m7", "active", "int_images_scored_v3", "m7")
            ),
            "scoring_v3_coefficients": COEFFICIENTS,
            "int_image_score_features": FEATURE_ROWS,
        }
    )
    with pytest.raises(ValueError, match="no artifact 'm7'"):
        load_v3().model(dbt, None)


def test_ridge_recovers_a_linear_label() -> None:
    rng = np.random.default_rng(3)
    features = rng.random((400, 3))
    label = 0.2 + features @ np.array([0.5, -0.25, 0.0])
    intercept, weights = fit_ridge(features, label, l2=1e-9)
    assert intercept == pytest.approx(0.2)
    assert weights == pytest.approx([0.5, -0.25, 0.0], abs=1e-6)


def feature_warehouse(path: Path, rows: int) -> None:
    rng = np.random.default_rng(5)
    con = duckdb.connect(str(path))
    con.execute("create schema staging")
    frame = pl.DataFrame(
        {
            "image_id": np.arange(1000, 1000 + rows),
            **{name: rng.random(rows) for name in FEATURES},
            "impressions": rng.integers(0, 20, rows),
        }
    ).with_columns(clicks=(pl.col("impressions") * pl.col("s_ctr") * 0.5).floor().cast(pl.Int64))
    con.register("frame", frame.to_arrow())
    con.execute("create table staging.int_image_score_features as select * from frame")
    con.close()


def test_training_is_deterministic_and_never_rewrites_an_artifact(tmp_path: Path) -> None:
    feature_warehouse(tmp_path / "w.duckdb", 200)
    seeds = tmp_path / "coefficients.csv"
    config = TrainingConfig(tmp_path / "w.duckdb", "m1", seeds)
    first = train(config)
    again = train(TrainingConfig(tmp_path / "w.duckdb", "m2", seeds))
    assert first.coefficients == again.coefficients
    assert first.scoring_version == "v3-m1"
    assert first.coefficients["s_ctr"] > 0.1  # the label follows s_ctr in this fixture
    assert first.validation_rmse < first.baseline_rmse
    assert read_artifacts(seeds) == {"m1", "m2"}
    with pytest.raises(TrainingError, match="never rewritten"):
        train(config)
    with pytest.raises(TrainingError, match="no such warehouse"):
        train(TrainingConfig(tmp_path / "missing.duckdb", "m3", seeds))


def test_the_committed_artifact_is_registered() -> None:
    artifacts = read_artifacts(REPO / "dbt_project" / "seeds" / "scoring_v3_coefficients.csv")
    registry = (REPO / "dbt_project" / "macros" / "scoring" / "scoring_versions.sql").read_text()
    assert artifacts
    for artifact in artifacts:
        assert f"'v3-{artifact}'" in registry


# --- shadow scoring: run both and compare -------------------------------------------------


def small_delivery(harness: PipelineHarness) -> dict[str, list[Path]]:
    from main_image.dev.generate import GenerateConfig, generate
    from main_image.landing import discover_files

    sample = generate(GenerateConfig(hotels=40, seed=11, deliveries=1), harness.root / "data")
    return discover_files(sample.deliveries[0])


def shadow_rows(harness: PipelineHarness) -> dict[int, tuple[int, str, bool]]:
    rows = harness.query(
        "select hotel_id, shadow_image_id, shadow_cdn_url, main_image_changes "
        "from staging.int_main_image_shadow_compared"
    )
    return {hotel: (image, url, changes) for hotel, image, url, changes in rows}


def test_the_shadow_report_is_what_switching_the_version_does(tmp_path: Path) -> None:
    as_of = date(2024, 7, 1)
    runs = {}
    for name, active, shadow in (
        ("v1", "v1", "v2"),
        ("v2", "v2", "v3-m1"),
        ("v3", "v3-m1", None),
    ):
        harness = PipelineHarness(
            root=tmp_path / name, warehouse=tmp_path / name / "w.duckdb", dbt_command="run"
        )
        files = small_delivery(harness)
        harness.run(files, as_of, scoring_version=active, shadow_scoring_version=shadow)
        runs[name] = harness

    for current, switched in (("v1", "v2"), ("v2", "v3")):
        before, after = runs[current].snapshot(), runs[switched].snapshot()
        compared = shadow_rows(runs[current])
        assert set(compared) == set(before) == set(after)
        # the shadow's choice is the switched run's main image, hotel by hotel
        assert {hotel: (image, url) for hotel, (image, url, _) in compared.items()} == after
        changed = {hotel for hotel in before if before[hotel] != after[hotel]}
        assert changed == {hotel for hotel, row in compared.items() if row[2]}
        report = runs[current].query(
            "select hotels_compared, hotels_changed, shadow_scoring_version, sample_hotels, "
            "score_delta_min <= score_delta_p50 and score_delta_p50 <= score_delta_max "
            "from reporting.rpt_scoring_shadow"
        )
        assert len(report) == 1
        compared_count, changed_count, _, sample, ordered = report[0]
        assert (compared_count, changed_count) == (len(before), len(changed))
        assert ordered
        for hotel in json.loads(sample):
            assert hotel["hotel_id"] in changed
            assert (hotel["active_image_id"], hotel["active_cdn_url"]) == before[hotel["hotel_id"]]
            assert (hotel["shadow_image_id"], hotel["shadow_cdn_url"]) == after[hotel["hotel_id"]]
    assert (
        len(
            json.loads(
                runs["v1"].query("select sample_hotels from reporting.rpt_scoring_shadow")[0][0]
            )
        )
        > 0
    )
    # without a shadow version the run writes no shadow row and publishes as before
    assert runs["v3"].query("select count(*) from reporting.rpt_scoring_shadow") == [(0,)]
