"""The admin page (issue #13 item 5): served by the service from its static files, and clicked
through in a real browser (Debian's chromium driven by Playwright).

The browser test serves the app with uvicorn on a loopback port (SQLite and landing zone in
tmp) and seeds it through the real path: uploads through a link, the outbox drained, the real
pipeline publishing its serving copy into the service's database. In the page the admin picks
the second-best candidate; the next run makes it the main image, chosen by the admin. The
screenshots are kept in tests/artifacts/ (docs/img/admin-page.png is a copy of admin-page.png).
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import chromium_or_skip

from . import imagegen
from .conftest import ADMIN, admin, settings

ARTIFACTS = Path(__file__).resolve().parents[2] / "tests" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
EXTERNAL_URL = re.compile(r"\bhttps?://|//[a-z0-9.-]+\.[a-z]{2,}/", re.IGNORECASE)
HOTEL = 4242


# --- the page's files, without a browser -------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_admin_page_and_its_assets_are_served_and_self_contained(service) -> None:
    client = service.client
    page = client.get("/admin")  # no token needed for the page itself
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert not EXTERNAL_URL.search(page.text), EXTERNAL_URL.search(page.text)
    parser = _Tags()
    parser.feed(page.text)
    scripts = [attrs["src"] for tag, attrs in parser.tags if tag == "script"]
    styles = [attrs["href"] for tag, attrs in parser.tags if tag == "link"]
    assert scripts == ["/admin/admin.js"] and styles == ["/admin/admin.css"]
    token = [attrs for tag, attrs in parser.tags if tag == "input" and attrs.get("id") == "token"]
    # a password field without a name: no form submission can carry it into a URL
    assert token and token[0]["type"] == "password" and "name" not in token[0]
    assert any(attrs.get("role") == "status" for _, attrs in parser.tags)

    for path, kind in (("/admin/admin.js", "text/javascript"), ("/admin/admin.css", "text/css")):
        asset = client.get(path)
        assert asset.status_code == 200, path
        assert asset.headers["content-type"].startswith(kind)
        assert len(asset.text) > 500 and not EXTERNAL_URL.search(asset.text), path
    assert "sessionStorage" in client.get("/admin/admin.js").text
    for missing in ("/admin/nope.js", "/admin/admin.html", "/admin/..%2Fapp.py"):
        assert client.get(missing).status_code == 404, missing
    # the API's schema (what schemathesis explores) does not list the page
    paths = client.get("/openapi.json").json()["paths"]
    assert paths and not [path for path in paths if not path.startswith("/v1/")]


# --- the page in a real browser ----------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    return chromium_or_skip("the admin page's browser test")


@dataclass
class LiveService:
    url: str
    database_url: str
    root: Path
    app: Any

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    def drain(self) -> int:
        from main_image.service import outbox

        svc = self.app.state.services
        return outbox.drain(svc.factory, svc.landing)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_service(tmp_path: Path, sqlite_template: Path) -> Iterator[LiveService]:
    """The app served by uvicorn in a thread; cdn_url points at it, so pictures load."""
    import uvicorn
    from main_image.service.app import create_app

    shutil.copyfile(sqlite_template, tmp_path / "service.db")
    database_url = f"sqlite:///{tmp_path / 'service.db'}"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(settings(tmp_path, database_url, public_base_url=url))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="admin-page-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"uvicorn did not start on {url}")
        time.sleep(0.05)
    try:
        yield LiveService(url, database_url, tmp_path, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def run(live: LiveService, number: int) -> None:
    """One pipeline run over the landing zone, publishing into the service's database."""
    from main_image.landing import discover_files
    from main_image.pipeline import OutputPaths, run_pipeline
    from main_image.runs import RunParameters

    out = live.root / "exports" / str(number)
    run_pipeline(
        live.root / "warehouse.duckdb",
        RunParameters(run_id=f"admin-page-{number}", as_of=datetime.now(UTC).date()),
        discover_files(live.landing),
        OutputPaths(out / "changes.jsonl", out / "snapshot.jsonl", out / "metrics.json"),
        dbt_command="run",
        reuse_manifest=True,
        serving_url=live.database_url,
    )


def _seed(live: LiveService) -> list[int]:
    """Three photos for the hotel, through an upload link; their image ids, largest first."""
    import httpx

    with httpx.Client(base_url=live.url, timeout=30) as client:
        link = client.post("/v1/upload-links", headers=admin(), json={
            "hotel_id": HOTEL, "source": "partner-a", "expires_in_seconds": 3600,
            "max_files": 5})
        assert link.status_code == 201, link.text
        files = [
            ("files", ("large.jpg", imagegen.jpeg(1600, 1200, seed=1), "image/jpeg")),
            ("files", ("medium.jpg", imagegen.jpeg(1024, 768, seed=2, model="X-T5"),
                       "image/jpeg")),
            ("files", ("small.jpg", imagegen.jpeg(640, 480, seed=3, model="iPhone 15"),
                       "image/jpeg")),
        ]
        uploaded = client.post(f"/v1/uploads/{link.json()['token']}", files=files)
        assert uploaded.status_code == 201, uploaded.text
    assert live.drain() == 3
    return [image["image_id"] for image in uploaded.json()["images"]]


def _main_image(live: LiveService) -> dict[str, Any]:
    import httpx

    response = httpx.get(f"{live.url}/v1/hotels/{HOTEL}/main-image", headers=admin())
    assert response.status_code == 200, response.text
    return response.json()


def _picture_width(page: Any) -> int:
    """The main picture's natural width once it has loaded (0: it failed to)."""
    page.wait_for_function(
        "() => { const i = document.getElementById('main-picture');"
        " return i.src && i.complete; }")
    return page.eval_on_selector("#main-picture", "i => i.naturalWidth")


def _fact(page: Any, field: str) -> str:
    return page.locator(f'#facts dd[data-field="{field}"]').inner_text()


@pytest.mark.slow
def test_admin_sets_an_override_in_the_page(live_service: LiveService, chromium: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    live = live_service
    large, medium, small = _seed(live)
    run(live, 1)
    first = _main_image(live)
    assert first["image_id"] == large and first["selection_source"] == "auto"
    assert set(first["candidate_image_ids"]) == {large, medium, small}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.set_default_timeout(15_000)
            expect.set_options(timeout=15_000)  # a shared machine may be slow to answer
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(f"{live.url}/admin")
            page.get_by_label("Admin token").fill(ADMIN)
            page.get_by_role("button", name="Use token").click()
            page.get_by_label("Hotel id").fill(str(HOTEL))
            page.get_by_role("button", name="Search").click()
            status = page.get_by_role("status")
            expect(status).to_contain_text(f"Hotel {HOTEL}: image {large} (auto)")
            assert _picture_width(page) == 1600  # the picture itself, from its cdn_url
            assert _fact(page, "selection_source") == "auto"
            assert _fact(page, "margin") == f"{first['margin']:.4f}"
            terms = page.locator("#score-terms tbody th").all_inner_texts()
            assert terms == ["s_res", "s_ar", "s_fresh", "s_tag"]
            s_res = page.locator('#score-terms tr[data-term="s_res"] td.num').inner_text()
            assert s_res == f"{first['score_terms']['s_res']:.4f}"
            # the token stays out of every URL the page asked for
            assert requests and not [url for url in requests if ADMIN in url]

            # the API's refusals are shown as they come
            page.get_by_role("button", name="Clear override").click()
            expect(status).to_contain_text(f"hotel {HOTEL} has no override set")
            page.get_by_label("Image id").fill("999")
            page.get_by_role("button", name="Set override").click()
            expect(status).to_contain_text("unknown image 999")

            row = page.locator(f'#candidates li[data-image-id="{medium}"]')
            row.get_by_role("button", name="Make main image").click()
            expect(status).to_contain_text(f"image {medium}, set by admin-page")
            expect(status).to_contain_text("It applies at the next run")
            page.screenshot(path=str(ARTIFACTS / "admin-page-override-recorded.png"),
                            full_page=True)
            assert _fact(page, "image_id") == str(large)  # nothing applied yet

            run(live, 2)
            page.reload()  # the hotel is in the URL's fragment, the token in sessionStorage
            expect(status).to_contain_text(f"Hotel {HOTEL}: image {medium} (admin)")
            assert _picture_width(page) == 1024
            assert _fact(page, "selection_source") == "admin"
            assert _fact(page, "run_id") == "admin-page-2"
            page.screenshot(path=str(ARTIFACTS / "admin-page.png"), full_page=True)
        finally:
            browser.close()
    second = _main_image(live)
    assert second["image_id"] == medium and second["selection_source"] == "admin"
