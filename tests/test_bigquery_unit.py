"""The BigQuery path without BigQuery: line numbering, SQL rendering, configuration, dbt parse.

The end-to-end comparison with DuckDB is tests/test_bigquery_emulator.py (`make test-bigquery`).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from main_image import landing
from main_image.engines.bigquery import loader as bq_loader
from main_image.engines.bigquery.config import BigQueryConfig
from main_image.engines.bigquery.warehouse import BigQueryWarehouse
from main_image.engines.duckdb.loader import file_sha256, iter_line_batches
from main_image.settings import DBT_PROJECT_DIR

TRICKY_FILES = [
    b"",
    b"\n",
    b'{"a": 1}',
    b'{"a": 1}\n',
    b'{"a": 1}\n\n{"b": 2}\n',
    b'{"a": 1}\r\n{"b": "\xc3\xa9"}\r\n',
    b'{"a": "\xff\xfe not utf-8"}\nlast line without newline',
    b"\n\n\n",
]


@pytest.mark.parametrize("content", TRICKY_FILES)
def test_lines_are_numbered_like_the_duckdb_loader(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "part.jsonl"
    path.write_bytes(content)
    batches = list(iter_line_batches(path))
    expected = [line for lines, _ in batches for line in lines]
    numbered = bq_loader.number_lines(io.BytesIO(content))
    try:
        rows = [
            json.loads(row)
            for row in numbered.ndjson_path.read_text(encoding="utf-8").splitlines()
        ]
    finally:
        numbered.close()
    assert [row["line"] for row in rows] == expected
    assert [row.get("line_defect") for row in rows] == [
        code for _, codes in batches for code in codes]
    assert [row["line_number"] for row in rows] == list(range(1, len(expected) + 1))
    assert numbered.line_count == len(expected)
    assert numbered.byte_count == len(content)
    assert numbered.sha256 == file_sha256(path)
    assert not numbered.ndjson_path.exists()


def test_sql_literals_are_exact_and_escaped() -> None:
    assert bq_loader.sql_literal(None) == "NULL"
    assert bq_loader.sql_literal(True) == "TRUE"
    assert bq_loader.sql_literal(42) == "42"
    assert bq_loader.sql_literal("it's a \\ path\nx") == "'it\\'s a \\\\ path\\nx'"
    assert bq_loader.sql_literal(date(2024, 7, 3)) == "DATE '2024-07-03'"
    stamp = datetime(2026, 11, 21, 0, 1, 2, 345678, tzinfo=UTC)
    assert bq_loader.sql_literal(stamp) == "TIMESTAMP_MICROS(1795219262345678)"
    assert bq_loader.sql_literal(stamp.replace(tzinfo=None)) == "TIMESTAMP_MICROS(1795219262345678)"


def test_layer_names_are_qualified_with_project_and_prefix() -> None:
    config = BigQueryConfig(project="p-1", dataset_prefix="mi_")
    warehouse = BigQueryWarehouse(config, client=object())
    sql = (
        "select x from raw.pipeline_runs join marts.fct_main_image_changes using (y) "
        "where z in (select 1 from reporting.rpt_run_metrics) and staging.a = 1 "
        "and `p-1.mi_raw.t` is not null and payload.raw.k = 2"
    )
    assert warehouse.qualify(sql) == (
        "select x from `p-1.mi_raw.pipeline_runs` join `p-1.mi_marts.fct_main_image_changes` "
        "using (y) where z in (select 1 from `p-1.mi_reporting.rpt_run_metrics`) and "
        "`p-1.mi_staging.a` = 1 and `p-1.mi_raw.t` is not null and payload.raw.k = 2"
    )


def test_configuration_comes_from_the_terraform_environment() -> None:
    env = {
        "MAIN_IMAGE_DBT_TARGET": "bigquery",
        "MAIN_IMAGE_GCP_PROJECT": "acme-prod",
        "MAIN_IMAGE_BQ_LOCATION": "europe-west4",
        "MAIN_IMAGE_DBT_SCHEMA_PREFIX": "main_image_",
    }
    config = BigQueryConfig.from_env(env)
    assert (config.project, config.location, config.dataset_prefix) == (
        "acme-prod", "europe-west4", "main_image_",
    )  # fmt: skip
    assert config.api_endpoint is None
    assert config.table("marts", "t") == "`acme-prod.main_image_marts.t`"
    assert config.dbt_env()["MAIN_IMAGE_DBT_SCHEMA_PREFIX"] == "main_image_"
    with pytest.raises(ValueError, match="MAIN_IMAGE_GCP_PROJECT"):
        BigQueryConfig.from_env({"MAIN_IMAGE_DBT_TARGET": "bigquery"})
    emulator = BigQueryConfig.from_env(
        {"MAIN_IMAGE_DBT_TARGET": "bq_emulator", "MAIN_IMAGE_BQ_EMULATOR_ENDPOINT": "http://x:1"}
    )
    assert (emulator.project, emulator.api_endpoint) == ("main-image-local", "http://x:1")


def test_gcs_landing_discovery_follows_the_local_rules() -> None:
    class Storage:
        def list_blobs(self, bucket: str, prefix: str = "") -> list:
            names = [
                "in/images/2024-07-02/part-00001.jsonl", "in/images/part-00000.jsonl",
                "in/images/.part-00002.jsonl", "in/images/notes.txt", "in/images/sub/",
                "in/image_tags/a.ndjson", "in/images_old/x.jsonl",
            ]  # fmt: skip
            assert bucket == "landing"
            return [type("Blob", (), {"name": n})() for n in names if n.startswith(prefix)]

    found = landing.discover_files("gs://landing/in/", Storage())
    assert found["images"] == [
        "gs://landing/in/images/2024-07-02/part-00001.jsonl",
        "gs://landing/in/images/part-00000.jsonl",
    ]
    assert found["image_tags"] == ["gs://landing/in/image_tags/a.ndjson"]
    assert found["user_events"] == []


@pytest.mark.parametrize("target", ["bigquery", "bq_emulator"])
def test_the_project_parses_for_the_bigquery_targets(tmp_path: Path, target: str) -> None:
    """profiles.yml renders, and every model (bigquery__ macros, configs) parses on BigQuery."""
    env = {
        "PATH": str(Path(sys.executable).parent),
        "HOME": str(tmp_path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "MAIN_IMAGE_DBT_TARGET": target,
        "MAIN_IMAGE_GCP_PROJECT": "acme-prod",
        "MAIN_IMAGE_DBT_SCHEMA_PREFIX": "mi_",
    }
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        [str(dbt), "parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
         str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target"),
         "--log-path", str(tmp_path / "logs"), "--vars", "{schema_prefix: mi_}"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    nodes = manifest["nodes"].values()
    schemas = {node["schema"] for node in nodes if node["resource_type"] == "model"}
    assert schemas == {"mi_staging", "mi_marts", "mi_reporting"}
    changes = manifest["nodes"]["model.main_image.fct_main_image_changes"]["config"]
    assert changes["incremental_strategy"] == "merge"
    assert changes["partition_by"] == {"field": "as_of", "data_type": "date", "granularity": "day"}
    assert changes["cluster_by"] == ["hotel_id"]
    source = manifest["sources"]["source.main_image.raw.images"]
    project = "acme-prod" if target == "bigquery" else "main-image-local"
    assert (source["database"], source["schema"]) == (project, "mi_raw")
