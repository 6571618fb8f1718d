"""The web console for counselors and supervisors: static files served at ``/``.

The console uses the same JSON API as everyone else, with the session cookie set at login.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse

STATIC = Path(__file__).parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' wss://voice-js.roaming.twilio.com; "  # the softphone's Twilio signaling
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
TYPES = {".js": "text/javascript", ".css": "text/css"}
ASSET_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,40}\.(js|css)$")  # flat names only: no path, no dot-dot

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=SECURITY_HEADERS)


@router.get("/console/{asset}")
def asset(asset: str) -> Response:
    """One of the console's ES modules or stylesheets (a flat file of crm/console/static)."""
    path = STATIC / asset
    if not ASSET_NAME.match(asset) or not path.is_file():
        return Response("no such console file", status_code=404, media_type="text/plain")
    return FileResponse(path, media_type=TYPES[path.suffix], headers=SECURITY_HEADERS)


# The browser softphone's vendored Twilio Voice SDK and its local sounds (never a CDN).
TWILIO_SDK = "twilio-voice-sdk-2.18.5"
VENDOR_FILES = {"twilio.min.js": "text/javascript"}
SOUND_NAME = re.compile(r"^[a-z][a-z0-9]{0,20}\.wav$")


@router.get(f"/console/vendor/{TWILIO_SDK}/{{name}}")
def vendor_file(name: str) -> Response:
    """The vendored Twilio Voice SDK (crm/console/static/vendor, see its README)."""
    if name not in VENDOR_FILES:
        return Response("no such vendored file", status_code=404, media_type="text/plain")
    path = STATIC / "vendor" / TWILIO_SDK / name
    return FileResponse(path, media_type=VENDOR_FILES[name], headers=SECURITY_HEADERS)


@router.get("/console/sounds/{name}")
def sound(name: str) -> Response:
    """One of the softphone's ring/dial/DTMF tones (crm/console/static/sounds)."""
    path = STATIC / "sounds" / name
    if not SOUND_NAME.match(name) or not path.is_file():
        return Response("no such sound", status_code=404, media_type="text/plain")
    return FileResponse(path, media_type="audio/wav", headers=SECURITY_HEADERS)
