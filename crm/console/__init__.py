"""The web console for counselors and supervisors: static files served at ``/``.

The console uses the same JSON API as everyone else, with the session cookie set at login.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse

STATIC = Path(__file__).parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
ASSETS = {"console.js": "text/javascript", "console.css": "text/css"}

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=SECURITY_HEADERS)


@router.get("/console/{asset}")
def asset(asset: str) -> Response:
    if asset not in ASSETS:
        return Response("no such console file", status_code=404, media_type="text/plain")
    return FileResponse(STATIC / asset, media_type=ASSETS[asset], headers=SECURITY_HEADERS)
