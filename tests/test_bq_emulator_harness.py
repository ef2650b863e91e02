"""The BigQuery emulator harness: start, use with the python client, always stop."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from main_image.dev.bq_emulator import (
    EmulatorError,
    EmulatorHandle,
    emulator_available,
    port_open,
    running_emulator,
)

pytestmark = pytest.mark.bigquery


@pytest.fixture
def requires_emulator() -> None:
    if not emulator_available():
        pytest.skip("BigQuery emulator venv .venv-bqemulator missing: run `make setup-bqemulator`")


def _client(handle: EmulatorHandle):  # -> google.cloud.bigquery.Client
    bigquery = pytest.importorskip("google.cloud.bigquery")
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    return bigquery.Client(
        project=handle.project,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=handle.endpoint),
    )


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.timeout(180)
@pytest.mark.usefixtures("requires_emulator")
def test_emulator_round_trip_and_stop() -> None:
    bigquery = pytest.importorskip("google.cloud.bigquery")
    with running_emulator(timeout=90) as emu:
        assert emu.endpoint == f"http://127.0.0.1:{emu.port}"
        assert port_open(emu.port)
        client = _client(emu)

        client.create_dataset("harness", exists_ok=True)
        table = bigquery.Table(
            f"{emu.project}.harness.images",
            schema=[
                bigquery.SchemaField("hotel_id", "INT64", mode="REQUIRED"),
                bigquery.SchemaField("url", "STRING"),
                bigquery.SchemaField("score", "FLOAT64"),
            ],
        )
        client.create_table(table)
        client.query(
            "insert into harness.images (hotel_id, url, score) "
            "values (7001, 'https://img.example/a.jpg', 0.5)"
        ).result()

        rows = [
            dict(row)
            for row in client.query(
                "select hotel_id, url, score, json_value('{\"k\": \"v\"}', '$.k') as k "
                "from harness.images"
            ).result()
        ]
        assert rows == [
            {"hotel_id": 7001, "url": "https://img.example/a.jpg", "score": 0.5, "k": "v"}
        ]
        # list_rows goes through tabledata.list: also what table comparisons can use
        assert [row["hotel_id"] for row in client.list_rows(table)] == [7001]

    assert not port_open(emu.port), "emulator still accepts connections after exit"
    assert _process_gone(emu.pid)
    assert not emu.data_dir.exists(), "temporary data dir was not removed"


@pytest.mark.timeout(180)
@pytest.mark.usefixtures("requires_emulator")
def test_emulator_stopped_when_the_body_raises() -> None:
    handle: EmulatorHandle | None = None
    with pytest.raises(RuntimeError, match="boom"), running_emulator(timeout=90) as emu:
        handle = emu
        raise RuntimeError("boom")
    assert handle is not None
    assert not port_open(handle.port)
    assert _process_gone(handle.pid)


def test_missing_venv_is_a_clear_error(tmp_path: Path) -> None:
    with (
        pytest.raises(EmulatorError, match="make setup-bqemulator"),
        running_emulator(venv=tmp_path / "no-such-venv"),
    ):
        pass  # pragma: no cover
