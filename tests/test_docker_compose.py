"""docker-compose.yml is consistent with the project (no Docker engine needed: the file is parsed).

Services, the shared Airflow environment, volumes and mounts, dependencies and health checks are
checked against what the DAGs, the orchestration module and requirements.txt expect."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from main_image import orchestration

REPO = Path(__file__).resolve().parents[1]
AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}
ONE_SHOT = ("data-init", "airflow-init")
IMAGE_SERVICE = ("service", "service-postgres")  # checked in tests/service/test_service_compose.py


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def airflow_version() -> str:
    pins = re.findall(r"^apache-airflow==(\S+)$", (REPO / "requirements.txt").read_text(), re.M)
    assert len(pins) == 1
    return pins[0]


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """container path -> source (host path or named volume)."""
    result = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        result[target] = source
    return result


def host_path(service: dict[str, Any], container_path: str) -> Path | None:
    """The repository path a container path comes from (None if not from a bind mount)."""
    path = PurePosixPath(container_path)
    for target, source in mounts(service).items():
        if source.startswith((".", "/")) and path.is_relative_to(target):
            return (REPO / source / path.relative_to(target)).resolve()
    return None


def test_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", *ONE_SHOT, *AIRFLOW_SERVICES, *IMAGE_SERVICE}
    for name, command in AIRFLOW_SERVICES.items():
        assert compose["services"][name]["command"] == command, name
    assert "8080:8080" in compose["services"]["airflow-apiserver"]["ports"]


def test_every_airflow_service_shares_image_environment_and_mounts(compose: dict) -> None:
    services = compose["services"]
    reference = services["airflow-scheduler"]
    build = reference["build"]["dockerfile_inline"]
    assert f"FROM apache/airflow:{airflow_version()}-python3.11" in build
    assert "requirements.txt" in build
    assert reference["image"].endswith(f":{airflow_version()}")
    for name in (*AIRFLOW_SERVICES, *ONE_SHOT):
        service = services[name]
        assert service["image"] == reference["image"], name
        assert service["environment"] == reference["environment"], name
        assert mounts(service) == mounts(reference), name


def test_airflow_environment_matches_the_project(compose: dict[str, Any]) -> None:
    services = compose["services"]
    scheduler = services["airflow-scheduler"]
    env = scheduler["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"

    # the metadata DB is the postgres service, with its credentials
    pg = services["postgres"]["environment"]
    db = urlparse(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert db.scheme.startswith("postgresql")
    assert (db.hostname, db.username, db.password, db.path.lstrip("/")) == (
        "postgres", pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"])

    # workers reach the execution API on the api-server service
    api = urlparse(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert api.hostname == "airflow-apiserver" and api.path == "/execution/"
    assert f"{api.port}:{api.port}" in services["airflow-apiserver"]["ports"]
    assert "${AIRFLOW_JWT_SECRET" in env["AIRFLOW__API_AUTH__JWT_SECRET"]  # from .env, not here

    # the DAGs, the plugins and the dbt project come from this repository's mount
    dags = host_path(scheduler, env["AIRFLOW__CORE__DAGS_FOLDER"])
    assert dags == REPO / "dags"
    assert {p.name for p in dags.glob("*.py")} >= {
        f"{orchestration.PIPELINE_DAG_ID}.py", f"{orchestration.REBUILD_DAG_ID}.py",
        f"{orchestration.CONSUMER_DAG_ID}.py"}
    assert host_path(scheduler, env["PYTHONPATH"]) == REPO / "plugins"
    assert host_path(scheduler, env["MAIN_IMAGE_HOME"]) == REPO
    assert "./:/opt/main_image:ro" in scheduler["volumes"]


def test_main_image_settings_are_known_and_on_the_data_volume(compose: dict[str, Any]) -> None:
    scheduler = compose["services"]["airflow-scheduler"]
    env = scheduler["environment"]
    main_image = {key for key in env if key.startswith("MAIN_IMAGE_")}
    assert main_image - {"MAIN_IMAGE_HOME"} <= set(orchestration.ENV_VARS)
    data = {target for target, source in mounts(scheduler).items() if source in compose["volumes"]}
    assert data == {"/data"}
    for key in ("MAIN_IMAGE_WAREHOUSE", "MAIN_IMAGE_LANDING_DIR", "MAIN_IMAGE_EXPORTS_DIR",
                "MAIN_IMAGE_DBT_MANIFEST"):
        assert PurePosixPath(env[key]).is_relative_to("/data"), key  # writable, shared, kept
    assert env["MAIN_IMAGE_POOL"] == orchestration.DEFAULT_POOL


def test_init_prepares_what_the_dags_need(compose: dict[str, Any]) -> None:
    services = compose["services"]
    env = services["airflow-scheduler"]["environment"]
    script = "\n".join(services["airflow-init"]["command"])
    assert "airflow db migrate" in script
    assert f"airflow pools set {env['MAIN_IMAGE_POOL']} 1" in script
    manifest_dir = str(PurePosixPath(env["MAIN_IMAGE_DBT_MANIFEST"]).parent)
    assert re.search(rf"dbt parse .*--target-path {re.escape(manifest_dir)}", script, re.S)
    assert f"--landing-dir {env['MAIN_IMAGE_LANDING_DIR']}" in script
    folders = "\n".join(services["data-init"]["command"])
    for key in ("MAIN_IMAGE_LANDING_DIR", "MAIN_IMAGE_EXPORTS_DIR"):
        assert env[key] in folders
    assert str(PurePosixPath(env["MAIN_IMAGE_WAREHOUSE"]).parent) in folders
    assert manifest_dir in folders


def test_dependencies_and_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "healthcheck" in services["postgres"]
    assert services["airflow-init"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "data-init": {"condition": "service_completed_successfully"},
    }
    for name in AIRFLOW_SERVICES:
        service = services[name]
        assert service["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "airflow-init": {"condition": "service_completed_successfully"},
        }, name
        assert service["healthcheck"]["test"], name
        assert service["restart"] == "unless-stopped", name
    for name in ONE_SHOT:
        assert services[name]["restart"] == "no", name
    declared = set(compose["volumes"])
    used = {source for service in services.values() for source in mounts(service).values()
            if not source.startswith((".", "/"))}
    assert used == declared
