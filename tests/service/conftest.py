"""Fixtures of the image-service tests: the same suite on SQLite and on PostgreSQL.

``service`` is parametrized over both databases. PostgreSQL is one throwaway cluster per
session (``pgcluster``), migrated once; each test starts from emptied tables. The GCS fixture
(fake-gcs-server) lives in test_service_gcs.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from . import pgcluster

ADMIN = "admin-token-for-tests-0123456789"
FRONTEND = "frontend-token-for-tests-0123456"
SECRET = "link-secret-for-tests-0123456789"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    cluster = pgcluster.start()
    if cluster is None:
        pytest.skip("PostgreSQL 15 binaries (initdb, pg_ctl) are not installed")
    try:
        yield cluster.url()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrations run once per session)."""
    from main_image.service import db, migrations

    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[Any]:
    from main_image.service import db, migrations

    engine = db.make_engine(pg_url)
    migrations.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a copy of the SQLite template, or emptied PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "service.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    from main_image.service import db

    engine = request.getfixturevalue("pg_engine")
    with engine.begin() as connection:
        names = ", ".join(db.table_names())
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
    return engine.url.render_as_string(hide_password=False)


@dataclass
class Service:
    client: TestClient
    app: Any
    root: Path

    @property
    def svc(self) -> Any:
        return self.app.state.services

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    def link(self, hotel_id: int = 7, **body: Any) -> dict[str, Any]:
        body = {"hotel_id": hotel_id, "source": "partner-a", "expires_in_seconds": 3600, **body}
        response = self.client.post("/v1/upload-links", json=body, headers=admin())
        assert response.status_code == 201, response.text
        return response.json()

    def upload(self, token: str, *files: tuple[str, bytes, str]) -> Any:
        parts = [("files", file) for file in files]
        return self.client.post(f"/v1/uploads/{token}", files=parts)

    def drain(self) -> int:
        from main_image.service import outbox

        return outbox.drain(self.svc.factory, self.svc.landing)


def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}"}


def settings(root: Path, database_url: str, **overrides: Any) -> Any:
    from main_image.service.settings import Settings

    values = {
        "admin_token": ADMIN,
        "frontend_token": FRONTEND,
        "link_secret": SECRET,
        "database_url": database_url,
        "blob_uri": str(root / "blobs"),
        "landing_uri": str(root / "landing"),
        "public_base_url": "http://testserver",
        "outbox_interval_seconds": 0,
        "auto_migrate": False,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def make_service(tmp_path: Path, database_url: str) -> Iterator[Any]:
    from main_image.service.app import create_app

    clients: list[TestClient] = []

    def build(**overrides: Any) -> Service:
        app = create_app(settings(tmp_path, database_url, **overrides))
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return Service(client, app, tmp_path)

    yield build
    for client in clients:
        client.__exit__(None, None, None)  # the lifespan's end disposes of the engine


@pytest.fixture
def service(make_service: Any) -> Service:
    return make_service()
