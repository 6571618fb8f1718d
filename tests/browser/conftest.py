"""Browser fixtures: Debian's Chromium driven by Playwright (no browser download).

Without Chromium the browser tests are skipped on a developer machine and fail under CI=true
(.ci/run installs Debian's chromium package first).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("MADOGUCHI_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        original_new_page = b.new_page

        def new_page(*args: Any, **kwargs: Any) -> Any:
            page = original_new_page(*args, **kwargs)
            page.set_default_timeout(60_000)  # shared CI machines: slow is not broken
            return page

        b.new_page = new_page  # type: ignore[method-assign]
        yield b
        b.close()


@pytest.fixture
def artifacts(tmp_path: Any, request: pytest.FixtureRequest) -> Any:
    """Where a test saves its screenshots: $MADOGUCHI_ARTIFACTS/<test name> (CI keeps it), else tmp."""
    from pathlib import Path

    root = os.environ.get("MADOGUCHI_ARTIFACTS")
    if not root:
        return tmp_path
    out = Path(root) / "browser" / request.node.name
    out.mkdir(parents=True, exist_ok=True)
    return out
