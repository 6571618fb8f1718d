"""/docs works on a closed network: every file the page loads comes from this server (issue 13)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_swagger_ui_loads_nothing_from_another_host(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "cdn" not in page.text.lower()
    for url in urls:
        res = client.get(url)
        assert res.status_code == 200 and len(res.content) > 500, url
    assert (
        client.get("/docs/assets/swagger-ui-bundle.js").headers["content-type"].startswith("text/javascript")
    )
    assert client.get("/openapi.json").json()["info"]["title"].startswith("Madoguchi")


def test_only_the_pages_files_are_served(client: TestClient) -> None:
    for name in ("index.html", "swagger-initializer.js", "nope.js"):
        res = client.get(f"/docs/assets/{name}")
        assert res.status_code == 404 and "no such documentation file" in res.text, name
    assert client.get("/docs/assets/../../app.py").status_code == 404
