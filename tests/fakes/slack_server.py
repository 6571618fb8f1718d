"""A local HTTP server that answers Slack Web API calls like Slack and records them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class SlackRecorder:
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_with: str | None = None  # e.g. "channel_not_found"
    base_url: str = ""


@contextmanager
def slack_server() -> Iterator[SlackRecorder]:
    recorder = SlackRecorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                body = json.loads(raw or "{}")
            else:
                body = {k: v[0] for k, v in parse_qs(raw).items()}
            recorder.calls.append(
                {
                    "method": self.path.rsplit("/", 1)[-1],
                    "auth": self.headers.get("Authorization"),
                    "body": body,
                }
            )
            answer = (
                {"ok": False, "error": recorder.fail_with}
                if recorder.fail_with
                else {"ok": True, "ts": "1.0"}
            )
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorder.base_url = f"http://127.0.0.1:{server.server_address[1]}/api/"
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
