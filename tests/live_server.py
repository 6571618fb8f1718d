"""A real uvicorn server on a free loopback port, for tests that need real HTTP (SSE, browsers)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` in a thread until the block ends; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        if thread.is_alive():  # an open SSE stream holds uvicorn's graceful shutdown: cut it
            server.force_exit = True
            thread.join(timeout=10)
        # Whatever happened to the lifespan, this app's periodic jobs must not outlive the block: a
        # leftover job thread would expire offers and sweep tickets in the next tests' database.
        runtime = getattr(app.state, "runtime", None)
        if runtime is not None:
            runtime.jobs.stop()
