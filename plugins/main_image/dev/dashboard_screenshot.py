"""`make dashboard-screenshot`: the README's picture of the dashboard, taken from the demo.

After `make run` (warehouse/demo.duckdb), this starts the dashboard headless on a free port,
opens it in Debian's chromium through Playwright, waits for the charts (Streamlit renders over
a websocket after the page's load event, so it waits for elements, not for the load), saves
the main page as a palette PNG (a UI has few colours: well under 200 KB) and, with
``--shadow-out``, the "Scoring shadow" page, then stops the server. Same data, same picture:
the demo is seeded, so a new screenshot differs only where the code did.
"""

from __future__ import annotations

import argparse
import io
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from main_image.dashboard.launch import dashboard_environment, streamlit_command

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
#: the page renders over a websocket after the load event: wait for elements this long
RENDER_TIMEOUT_MS = 120_000
VIEWPORT = {"width": 1400, "height": 1000}
CHARTS = '[data-testid="stTabPanel"]:visible [data-testid="stVegaLiteChart"]'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(warehouse: Path, log: Path, timeout: float = 90.0,
            extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """The dashboard on a free loopback port until the block ends; yields its URL. Also the
    browser tests' server (tests/test_analytics.py), which adds `extra_env`."""
    port = free_port()
    env = {**dashboard_environment(warehouse, "duckdb"), **(extra_env or {})}
    if not warehouse.is_absolute():  # the sidebar names it as given, not this checkout's path
        env["MAIN_IMAGE_WAREHOUSE"] = str(warehouse)
    with log.open("wb") as out:
        process = subprocess.Popen(streamlit_command(port, "127.0.0.1"), env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited: {log.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit not ready after {timeout:.0f} s: {log.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def small_png(raw: bytes, path: Path) -> int:
    """A screenshot as a palette PNG; returns its size in bytes."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(raw)).convert("RGB")
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path.stat().st_size


def wait_for_charts(page: Any, count: int) -> None:
    """Until ``count`` charts of the visible tab have drawn (Vega-Lite: a canvas or an svg)."""
    charts = page.locator(CHARTS)
    for index in range(count):
        charts.nth(index).locator("canvas, svg").first.wait_for()
    page.wait_for_timeout(1000)  # the charts' enter transitions


def shoot(page: Any, path: Path) -> int:
    """The whole visible tab: Streamlit scrolls inside its main block, not the document, so
    the viewport grows to the block's height first (the charts then re-layout)."""
    height = page.evaluate(
        "document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(int(height), 600)})
    page.wait_for_timeout(1500)
    size = small_png(page.screenshot(), path)
    page.set_viewport_size(VIEWPORT)
    return size


def take(url: str, out: Path, shadow_out: Path | None) -> list[tuple[Path, int]]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if not chromium:
        raise RuntimeError("chromium is not installed (`make setup-system`)")
    written: list[tuple[Path, int]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(RENDER_TIMEOUT_MS)
            page.goto(url)
            wait_for_charts(page, 2)  # the Runs tab: two line charts
            written.append((out, shoot(page, out)))
            if shadow_out is not None:
                page.get_by_role("tab", name="Scoring shadow").click()
                shadow = page.locator('[data-testid="stTabPanel"]:visible')
                shadow.locator('[data-testid="stMetric"]', has_text="Hotels compared").wait_for()
                wait_for_charts(page, 2)  # hotels per run, score deltas per run
                written.append((shadow_out, shoot(page, shadow_out)))
        finally:
            browser.close()
    return written


def shadow_runs(warehouse: Path) -> int:
    """How many runs of the warehouse have a shadow comparison (the shadow page's content)."""
    from main_image.dashboard import queries
    from main_image.dashboard.source import DuckDBSource

    return int(DuckDBSource(warehouse).query(queries.SCORING_SHADOW_RUNS).iloc[0]["shadow_runs"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dashboard-screenshot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, default=Path("warehouse/demo.duckdb"))
    parser.add_argument("--out", type=Path, default=Path("docs/dashboard.png"))
    parser.add_argument("--shadow-out", type=Path, default=None,
                        help="also the Scoring shadow page (docs/img/dashboard-shadow.png)")
    args = parser.parse_args(argv)
    if not args.warehouse.is_file():
        print(f"dashboard-screenshot: no warehouse at {args.warehouse}: `make run` first",
              file=sys.stderr)
        return 2
    if args.shadow_out is not None and not shadow_runs(args.warehouse):
        print(f"dashboard-screenshot: no shadow comparison in {args.warehouse}, so no "
              f"{args.shadow_out} (`make run SHADOW_SCORING_VERSION=v2` makes one)",
              file=sys.stderr)
        args.shadow_out = None
    with (tempfile.TemporaryDirectory(prefix="dashboard-") as tmp,
          serving(args.warehouse, Path(tmp) / "streamlit.log") as url):
        written = take(url, args.out, args.shadow_out)
    for path, size in written:
        print(f"dashboard-screenshot: {path} ({size / 1024:.0f} KB) from {args.warehouse}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
