"""Sample data for a local landing zone (``python -m main_image.landing sample``, used by
``make airflow-sample``): generated deliveries, the first one staged into the landing zone."""

from __future__ import annotations

from pathlib import Path

from main_image.dev.generate import GenerateConfig, generate
from main_image.landing import stage_delivery


def write_sample(
    landing_dir: Path,
    sample_dir: Path,
    hotels: int = 200,
    seed: int = 42,
    deliveries: int = 3,
) -> list[Path]:
    """Generate `deliveries` deliveries into `sample_dir` and stage the first one.

    Returns the delivery folders that were *not* staged (drop them in with ``stage``)."""
    result = generate(GenerateConfig(hotels=hotels, seed=seed, deliveries=deliveries), sample_dir)
    stage_delivery(result.deliveries[0], landing_dir)
    return list(result.deliveries[1:])
