"""`main-image train-scoring`: fit scoring v3's linear model on the warehouse's own data.

Features are the terms every scoring version shares (staging.int_image_score_features: v1's
s_res, s_ar, s_fresh, s_tag; s_obiq, s_ctr, s_report), the label is an image's clicks per
impression in the engagement window. Ridge regression in closed form (numpy), so a run is
deterministic; the seed only draws the validation split the command reports on. The
coefficients are appended to the dbt seed `scoring_v3_coefficients.csv` under a new artifact
version: an artifact is never rewritten, so `v3-<artifact>` always means the same model.

The features hold the candidates of the hotels the last run recomputed: train after a full
rebuild (`main-image run --full-refresh`) to see every hotel.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FEATURES = ("s_res", "s_ar", "s_fresh", "s_tag", "s_obiq", "s_ctr", "s_report")
ARTIFACT_VERSION = re.compile(r"^m[0-9]+$")
HEADER = ("model_version", "term", "coefficient")


class TrainingError(ValueError):
    """The training cannot run as asked (one line for the user)."""


@dataclass(frozen=True)
class TrainingConfig:
    warehouse: Path
    artifact_version: str
    coefficients_csv: Path
    seed: int = 16
    l2: float = 1.0
    min_impressions: int = 1
    validation_fraction: float = 0.2


@dataclass(frozen=True)
class TrainingResult:
    artifact_version: str
    scoring_version: str
    rows: int
    coefficients: dict[str, float]
    validation_rmse: float
    baseline_rmse: float


def load_training_rows(config: TrainingConfig) -> tuple[np.ndarray, np.ndarray]:
    """(features, label) of every candidate with enough impressions."""
    from main_image.engines.duckdb import warehouse

    if not config.warehouse.is_file():
        raise TrainingError(f"no such warehouse: {config.warehouse}")
    query = f"""
        select {", ".join(FEATURES)}, cast(clicks as double) / impressions as label
        from staging.int_image_score_features
        where impressions >= ?
        order by image_id
    """
    with warehouse.connect(config.warehouse, read_only=True) as con:
        try:
            rows = con.execute(query, [max(config.min_impressions, 1)]).fetchnumpy()
        except Exception as error:  # duckdb.CatalogException and friends
            raise TrainingError(
                f"{config.warehouse} has no staging.int_image_score_features: run a pipeline first"
            ) from error
    features = np.column_stack([rows[name].astype(float) for name in FEATURES])
    return features, rows["label"].astype(float)


def fit_ridge(features: np.ndarray, label: np.ndarray, l2: float) -> tuple[float, np.ndarray]:
    """Intercept and weights minimising squared error + l2 * |weights|^2 (intercept free)."""
    mean_x, mean_y = features.mean(axis=0), label.mean()
    centred = features - mean_x
    gram = centred.T @ centred + l2 * np.eye(features.shape[1])
    weights = np.linalg.solve(gram, centred.T @ (label - mean_y))
    return float(mean_y - mean_x @ weights), weights


def train(config: TrainingConfig) -> TrainingResult:
    if not ARTIFACT_VERSION.match(config.artifact_version):
        raise TrainingError(
            f"--artifact-version must look like m2, got {config.artifact_version!r}"
        )
    existing = read_artifacts(config.coefficients_csv)
    if config.artifact_version in existing:
        raise TrainingError(
            f"artifact {config.artifact_version} exists in {config.coefficients_csv}; "
            "artifacts are never rewritten: pick a new version"
        )
    features, label = load_training_rows(config)
    if len(label) < len(FEATURES) + 2:
        raise TrainingError(
            f"only {len(label)} images with >= {config.min_impressions} impressions: too few"
        )
    order = np.random.default_rng(config.seed).permutation(len(label))
    held_out = order[: max(1, int(len(label) * config.validation_fraction))]
    kept = order[len(held_out) :]
    intercept, weights = fit_ridge(features[kept], label[kept], config.l2)
    predicted = intercept + features[held_out] @ weights
    validation_rmse = float(np.sqrt(np.mean((predicted - label[held_out]) ** 2)))
    baseline_rmse = float(np.sqrt(np.mean((label[kept].mean() - label[held_out]) ** 2)))
    # the artifact: fitted on every row, with the split's figures as its report
    intercept, weights = fit_ridge(features, label, config.l2)
    coefficients = {"intercept": intercept, **dict(zip(FEATURES, map(float, weights), strict=True))}
    write_artifact(config.coefficients_csv, config.artifact_version, coefficients)
    return TrainingResult(
        artifact_version=config.artifact_version,
        scoring_version=f"v3-{config.artifact_version}",
        rows=len(label),
        coefficients=coefficients,
        validation_rmse=validation_rmse,
        baseline_rmse=baseline_rmse,
    )


def read_artifacts(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["model_version"] for row in csv.DictReader(handle)}


def write_artifact(path: Path, artifact_version: str, coefficients: dict[str, float]) -> None:
    """Append the artifact's rows (the header when the file is new or empty)."""
    new_file = not path.is_file() or path.stat().st_size == 0
    with path.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if new_file:
            writer.writerow(HEADER)
        for term, value in coefficients.items():
            writer.writerow((artifact_version, term, repr(round(value, 12))))
