"""Schemathesis over the service's OpenAPI document: every operation, generated valid and
invalid inputs, zero 5xx answers and zero schema violations (status codes, content types,
response bodies, and the rejection of what the schema calls invalid).

Sized for the suite's budget: 20 examples per operation, on PostgreSQL where available.
Uploads use a real link (forged tokens are covered by the contract tests), so generated
multipart bodies reach the parser and the image decoder."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from .conftest import ADMIN, settings

EXAMPLES = 20
OPERATIONS = 12


def seed_serving_copy(application) -> None:
    """A published main image with candidates and a few changes, as a run would leave them, so
    that generated hotel ids and cursors also reach rows (hotel 7, images 1000..1002)."""
    from main_image.service.db import (
        ServingCandidate,
        ServingChange,
        ServingMainImage,
        now,
        transaction,
    )

    stamp = now()
    with transaction(application.state.services.factory) as session:
        session.add(ServingMainImage(
            hotel_id=7, image_id=1000, cdn_url="https://cdn.example.com/1000.jpg",
            selection_source="auto", score=0.9, score_terms='{"s_res":1.0}', margin=0.1,
            scoring_version="v1", run_id="seed", as_of=stamp.date(), invocation_seq=1))
        for rank, image_id in enumerate((1000, 1001, 1002), start=1):
            session.add(ServingCandidate(image_id=image_id, hotel_id=7, image_rank=rank))
        for position in range(3):
            session.add(ServingChange(
                run_id="seed", run_position=position, change_type="new", hotel_id=7 + position,
                image_id=1000 + position, cdn_url=f"https://cdn.example.com/{position}.jpg",
                published_at=stamp))  # fmt: skip


def _database_url(request: pytest.FixtureRequest, root: Path) -> str:
    """PostgreSQL when its binaries are here (stricter: NUL bytes, 64-bit integers), else
    SQLite; the contract tests run on both."""
    try:
        return request.getfixturevalue("pg_url")
    except pytest.skip.Exception:
        return f"sqlite:///{root / 'service.db'}"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    from main_image.service.app import create_app

    root: Path = tmp_path_factory.mktemp("schemathesis")
    url = _database_url(request, root)
    if url.startswith("postgresql"):  # the contract tests may have used it: empty it
        from main_image.service import db, migrations
        from sqlalchemy import text

        engine = db.make_engine(url)
        migrations.upgrade(engine)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(db.table_names())} RESTART IDENTITY"))
        engine.dispose()
    application = create_app(settings(root, url, auto_migrate=True, max_file_bytes=200_000))
    with TestClient(application) as client:
        link = client.post(
            "/v1/upload-links",
            json={"hotel_id": 7, "source": "fuzz", "expires_in_seconds": 3600, "max_files": 10_000},
            headers={"Authorization": f"Bearer {ADMIN}"},
        ).json()
        application.state.fuzz_token = link["token"]
        seed_serving_copy(application)
        yield application


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def operations(api_schema) -> list:
    return [result.ok() for result in api_schema.get_all_operations()]


def test_every_operation_is_fuzzed(api_schema) -> None:
    labels = {operation.label for operation in operations(api_schema)}
    assert {"POST /v1/upload-links", "POST /v1/uploads/{token}", "GET /v1/stats"} <= labels
    assert {"GET /v1/hotels/{hotel_id}/main-image", "GET /v1/changes",
            "PUT /v1/hotels/{hotel_id}/main-image-override",
            "DELETE /v1/hotels/{hotel_id}/main-image-override"} <= labels  # fmt: skip
    assert len(labels) == OPERATIONS


@pytest.mark.parametrize("index", range(OPERATIONS))
def test_operation(api_schema, app, index: int) -> None:
    operation = operations(api_schema)[index]
    # A schema cannot say "a decodable image": schema-valid random bytes are rightly 415.
    # Nor "a cursor this service handed out": a schema-valid string that is none is rightly 400.
    opaque = ("/v1/uploads/{token}", "/v1/changes")
    excluded = [positive_data_acceptance] if operation.path in opaque else []

    @given(case=operation.as_strategy())
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case) -> None:
        if "token" in (case.path_parameters or {}):
            case.path_parameters["token"] = app.state.fuzz_token
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {ADMIN}"}, excluded_checks=excluded
        )
        assert response.status_code < 500

    check()
