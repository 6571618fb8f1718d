"""``/docs`` without a CDN: Swagger UI from the swagger-ui-bundle package, served by this app.

Centers run on closed networks (LGWAN); FastAPI's default page loads Swagger UI from a CDN and
stays blank there. The same page is built here with its script, stylesheet and icon served from
``/docs/assets/``: only the files the page needs, by name, never a path from the request.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse
from swagger_ui_bundle import swagger_ui_path

ASSET_DIR = Path(swagger_ui_path)
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
CACHE = {"Cache-Control": "public, max-age=86400"}

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """The interactive API reference, entirely from this server."""
    root = request.scope.get("root_path", "").rstrip("/")
    return get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json",
        title="Madoguchi 窓口 - API",
        swagger_js_url=f"{root}/docs/assets/swagger-ui-bundle.js",
        swagger_css_url=f"{root}/docs/assets/swagger-ui.css",
        swagger_favicon_url=f"{root}/docs/assets/favicon-32x32.png",
        oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
    )


@router.get("/docs/oauth2-redirect")
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/docs/assets/{name}")
def swagger_asset(name: str) -> Response:
    """One of the page's files; anything else is 404 (no directory listing, no path traversal)."""
    if name not in ASSETS:
        return Response("no such documentation file", status_code=404, media_type="text/plain")
    return FileResponse(ASSET_DIR / name, media_type=ASSETS[name], headers=CACHE)
