"""The admin page (issue #13): three static files the service serves itself, so an admin can
look a hotel up, see its main image and why it won, and set or clear an override.

Loading the page needs no token: the page holds no data. It asks for the admin token and
calls the /v1 API with it (the API checks it). The routes stay out of the OpenAPI schema, which
describes the API only (schemathesis runs over it). Nothing is fetched from elsewhere: the
Content-Security-Policy allows scripts, styles and requests to this origin only; pictures may
come from any http(s) host, since a feed image's cdn_url is external.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

#: Next to this package, so it ships with it and is found with PYTHONPATH=plugins alike.
STATIC = Path(__file__).resolve().parent.parent / "static"
#: The only files served (by name, never a path from the request).
ASSETS = {
    "admin.js": "text/javascript; charset=utf-8",
    "admin.css": "text/css; charset=utf-8",
}
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' http: https: data:; form-action 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


@router.get("/admin")
def admin_page() -> FileResponse:
    return FileResponse(STATIC / "admin.html", media_type="text/html; charset=utf-8",
                        headers=HEADERS)


@router.get("/admin/{asset}")
def admin_asset(asset: str) -> FileResponse:
    media_type = ASSETS.get(asset)
    if media_type is None:
        raise HTTPException(404, "not found")
    return FileResponse(STATIC / asset, media_type=media_type, headers=HEADERS)
