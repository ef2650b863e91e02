"""dbt's unit tests (``unit_tests:`` in the models' yml), once per suite.

The pipeline's builds leave them out (``dbt_runner.PIPELINE_BUILD_EXCLUDES``): they check the
SQL against fixed inputs, not a run's data. dbt needs the relations a unit test reads to exist
(it reads their columns), so the project is first built ``--empty`` on a new warehouse: every
model as a table with no rows, in a second or two.
"""

from __future__ import annotations

import json
from pathlib import Path

from main_image.dbt_runner import run_dbt
from main_image.engines import open_warehouse


def test_every_unit_test_passes(tmp_path: Path) -> None:
    warehouse = tmp_path / "unit.duckdb"
    with open_warehouse(warehouse, None) as wh:
        wh.ensure_raw_layer()
    target = tmp_path / "target"
    run_dbt(["build", "--empty", "--exclude-resource-type", "test",
             "--exclude-resource-type", "unit_test", "--target-path", str(target)],
            warehouse=warehouse, target="duckdb")
    result = run_dbt(["test", "--select", "test_type:unit", "--target-path", str(target)],
                     warehouse=warehouse, target="duckdb")

    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    enabled = list(manifest["unit_tests"])
    ran = [node for node in result.node_timings if node.startswith("unit_test.")]
    assert result.success and not result.failures
    assert sorted(ran) == sorted(enabled) and len(ran) >= 10, (ran, enabled)
