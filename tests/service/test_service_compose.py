"""docker-compose.yml's image service: its own PostgreSQL, secrets from .env, and feed records
into the landing zone the Airflow DAGs read (the file is parsed; no Docker engine needed)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import yaml
from main_image.service.settings import SECRETS

REPO = Path(__file__).resolve().parents[2]


def test_service_entry() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    service, postgres = services["service"], services["service-postgres"]
    env = service["environment"]
    assert service["entrypoint"][:4] == ["python", "-m", "main_image.cli", "serve"]
    port = service["entrypoint"][service["entrypoint"].index("--port") + 1]
    assert f"{port}:{port}" in service["ports"]
    for variable in SECRETS.values():
        assert env[variable].startswith(f"${{{variable}:?"), variable  # from .env, required
    database = urlparse(env["MAIN_IMAGE_DATABASE_URL"])
    pg = postgres["environment"]
    assert database.scheme == "postgresql+psycopg"
    expected = ("service-postgres", pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"])
    assert (database.hostname, database.username, database.password, database.path[1:]) == expected
    assert service["depends_on"]["service-postgres"] == {"condition": "service_healthy"}
    assert "healthcheck" in postgres and "healthcheck" in service
    # the landing zone is the one the DAGs land from, on the same volume
    airflow = services["airflow-scheduler"]
    assert env["MAIN_IMAGE_LANDING_DIR"] == airflow["environment"]["MAIN_IMAGE_LANDING_DIR"]
    shared = {v for v in service["volumes"] if v.startswith("main-image-data:")}
    assert shared and shared <= set(airflow["volumes"])
    assert any(v.split(":")[1] == env["MAIN_IMAGE_BLOB_URI"] for v in service["volumes"])
    assert service["image"] == airflow["image"]  # the pinned requirements include the service's
