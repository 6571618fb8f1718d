"""Helpers for the console's browser tests: log in, wait for jobs, and read what a person sees."""

from __future__ import annotations

from typing import Any

from config.runtime import Runtime
from tests.factories import PASSWORD


def log_in(page: Any, url: str, username: str, path: str = "/") -> None:
    """Open ``path`` (a deep link works before logging in) and log in through the form."""
    page.goto(url + path)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#me:not([hidden])")


def settle(runtime: Runtime) -> None:
    """Run due jobs now (routing, delivery): RQ in the PG+Redis run; the in-process runner otherwise."""
    runtime.jobs.drain()


def watch_errors(page: Any) -> list[str]:
    """Uncaught exceptions in the page; a test asserts it stays empty."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def poll(page: Any, function: str, arg: Any = None, timeout: float = 15.0) -> None:
    """Wait until the page function returns truthy (page.evaluate: the console's CSP forbids the eval
    that wait_for_function's polling uses for some predicates)."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(function, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout}s: {function}")
        time.sleep(0.1)
