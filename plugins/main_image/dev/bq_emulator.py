"""Run the local BigQuery API emulator (``bqemulator``) for tests and manual dbt runs.

The emulator conflicts with Airflow's dependency pins, so it lives in its own
virtualenv (``.venv-bqemulator``, built by ``make setup-bqemulator`` from
``requirements-bqemulator.txt``). This module only uses the standard library: it
starts the emulator as a subprocess with that venv's python, bound to 127.0.0.1.

The emulator needs DuckDB's ``spatial`` extension at startup and would otherwise try
to download it. The launcher below installs it from the pinned
``duckdb-extension-spatial`` wheel into DuckDB's default extension directory
(``~/.duckdb/extensions/v<duckdb version>/<platform>/``) once, and turns off the
best-effort ``avro`` download, so nothing is fetched from the network at run time.

Usage::

    with running_emulator() as emu:
        ...  # dbt profile: method oauth-secrets, token dummy, api_endpoint emu.endpoint

    python -m main_image.dev.bq_emulator --port 9050   # foreground, Ctrl-C to stop
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_VENV = REPO_ROOT / ".venv-bqemulator"
DEFAULT_PROJECT = "main-image-local"
HOST = "127.0.0.1"
SETUP_HINT = "run `make setup-bqemulator`"

# Executed with the emulator venv's python (``python -c``): installs the bundled
# spatial extension if DuckDB does not have it yet, then hands over to the CLI.
_LAUNCHER = """
import pathlib, sys
import duckdb
import duckdb_extension_spatial
con = duckdb.connect()
row = con.execute(
    "SELECT installed FROM duckdb_extensions() WHERE extension_name = 'spatial'"
).fetchone()
if not (row and row[0]):
    ext = (pathlib.Path(duckdb_extension_spatial.__file__).parent / "extensions"
           / f"v{duckdb.__version__}" / "spatial.duckdb_extension")
    con.install_extension(str(ext))
con.close()
from bqemulator.cli import main
sys.argv[0] = "bqemulator"
main(prog_name="bqemulator")
"""


class EmulatorError(RuntimeError):
    """The emulator could not be started (missing venv, crash, or timeout)."""


@dataclass(frozen=True)
class EmulatorHandle:
    """A running emulator: where to reach it and which project it defaults to."""

    port: int
    project: str
    pid: int
    data_dir: Path
    log_file: Path

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"


def emulator_python(venv: Path | None = None) -> Path:
    """The python of the emulator venv (``BQ_EMULATOR_VENV`` overrides the default)."""
    root = venv or Path(os.environ.get("BQ_EMULATOR_VENV", DEFAULT_VENV))
    return root / "bin" / "python"


def emulator_available(venv: Path | None = None) -> bool:
    return emulator_python(venv).exists()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_open(port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=timeout):
        return True
    return False


def _log_tail(log_file: Path, lines: int = 40) -> str:
    try:
        text = log_file.read_text(errors="replace")
    except OSError:
        return "<no log>"
    return "\n".join(text.splitlines()[-lines:]) or "<empty log>"


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()  # SIGTERM: the emulator shuts down REST, gRPC and DuckDB cleanly
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace)


def _child_env(workdir: Path) -> dict[str, str]:
    # Drop inherited BQEMU_* settings so only the flags below configure the emulator.
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("BQEMU_")}
    env.update(
        BQEMU_ENABLE_FORMAT_EXTENSIONS="false",  # avoid `INSTALL avro` (network)
        BQEMU_METRICS_ENABLED="false",
        BQEMU_UPLOAD_STAGING_DIR=str(workdir / "uploads"),
        PYTHONUNBUFFERED="1",
    )
    return env


@contextlib.contextmanager
def running_emulator(
    project: str = DEFAULT_PROJECT,
    venv: Path | None = None,
    timeout: float = 60,
    *,
    port: int | None = None,
    log_level: str = "info",
    log_to_console: bool = False,
) -> Iterator[EmulatorHandle]:
    """Start the emulator on a free loopback port and stop it on exit (also on errors)."""
    python = emulator_python(venv)
    if not python.exists():
        raise EmulatorError(f"BigQuery emulator venv not found ({python}); {SETUP_HINT}")
    port = port or free_port()
    if port_open(port):
        raise EmulatorError(f"port {port} on {HOST} is already in use")

    with tempfile.TemporaryDirectory(prefix="bqemulator-") as tmp:
        workdir = Path(tmp)
        data_dir = workdir / "data"
        log_file = workdir / "emulator.log"
        cmd = [
            str(python), "-c", _LAUNCHER, "start",
            "--rest-host", HOST, "--rest-port", str(port),
            "--grpc-host", HOST, "--grpc-port", "0",
            "--data-dir", str(data_dir), "--project", project,
            "--log-level", log_level,
            "--log-format", "console" if log_to_console else "json",
        ]  # fmt: skip
        with open(log_file, "wb") as log:
            out = None if log_to_console else log
            proc = subprocess.Popen(
                cmd,
                cwd=workdir,  # keeps any stray .bqemu.toml out of play
                env=_child_env(workdir),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT if out is not None else None,
                start_new_session=True,  # Ctrl-C is handled here, not twice
            )
            try:
                deadline = time.monotonic() + timeout
                while not _ready(port):
                    if proc.poll() is not None:
                        raise EmulatorError(
                            f"emulator exited with code {proc.returncode} during startup; "
                            f"log tail:\n{_log_tail(log_file)}"
                        )
                    if time.monotonic() > deadline:
                        raise EmulatorError(
                            f"emulator did not answer on {HOST}:{port} within {timeout:g}s; "
                            f"log tail:\n{_log_tail(log_file)}"
                        )
                    time.sleep(0.2)
                yield EmulatorHandle(port, project, proc.pid, data_dir, log_file)
            finally:
                _stop(proc)


def profile_snippet(handle: EmulatorHandle, dataset: str = "main_image") -> str:
    return (
        "main_image:\n  target: emulator\n  outputs:\n    emulator:\n"
        "      type: bigquery\n      method: oauth-secrets\n      token: dummy\n"
        f"      project: {handle.project}\n      dataset: {dataset}\n"
        f"      api_endpoint: {handle.endpoint}\n      location: US\n      threads: 1\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the BigQuery emulator in the foreground.")
    parser.add_argument("--port", type=int, default=9050, help="REST port (0 = pick a free one)")
    parser.add_argument("--project", default=DEFAULT_PROJECT)
    parser.add_argument("--venv", type=Path, default=None, help="emulator virtualenv")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    stop = False

    def _on_signal(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _on_signal)
    try:
        with running_emulator(
            args.project, args.venv, args.timeout,
            port=args.port or None, log_level=args.log_level, log_to_console=True,
        ) as emu:  # fmt: skip
            print(f"BigQuery emulator ready at {emu.endpoint} (pid {emu.pid}); Ctrl-C to stop")
            print("dbt profile:\n" + profile_snippet(emu), flush=True)
            while not stop:
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    except EmulatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
