"""Start the dashboard: `main-image dashboard` (cli.py) and `make dashboard` call ``main``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

APP = Path(__file__).with_name("app.py")
DEFAULT_PORT = 8501


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warehouse", type=Path, default=None,
        help="DuckDB warehouse file "
        "(default: $MAIN_IMAGE_WAREHOUSE, else warehouse/main_image.duckdb)",
    )
    parser.add_argument(
        "--target", default=None,
        help="dbt target to read: duckdb (default), bigquery or bq_emulator "
        "(default: $MAIN_IMAGE_DBT_TARGET)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="HTTP port (default 8501)")
    parser.add_argument("--address", default="127.0.0.1", help="bind address (default loopback)")


def streamlit_command(port: int, address: str) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal",
    ]


def dashboard_environment(warehouse: Path | None, target: str | None) -> dict[str, str]:
    """The environment of the Streamlit process: the reader's configuration (source.py) and a
    PYTHONPATH that finds this package."""
    env = dict(os.environ)
    if warehouse is not None:
        env["MAIN_IMAGE_WAREHOUSE"] = str(warehouse.resolve())
    if target is not None:
        env["MAIN_IMAGE_DBT_TARGET"] = target
    plugins = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [plugins, env.get("PYTHONPATH")]))
    return env


def run(args: argparse.Namespace) -> int:
    """Run Streamlit in the foreground until Ctrl-C; its exit code is ours."""
    warehouse = args.warehouse
    if warehouse is not None and not warehouse.is_file():
        print(f"main-image: error: no warehouse at {warehouse}: run the pipeline first "
              "(`make run`)", file=sys.stderr)
        return 2
    print(f"dashboard: http://{args.address}:{args.port} (Ctrl-C stops it)", file=sys.stderr)
    command = streamlit_command(args.port, args.address)
    try:
        return subprocess.call(command, env=dashboard_environment(warehouse, args.target))
    except KeyboardInterrupt:
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="main-image dashboard", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
