"""A local HTTP server that answers like the LINE Messaging API, for tests and benchmarks.

Point the SDK at it with ``MADOGUCHI_LINE_API_BASE_URL`` / ``MADOGUCHI_LINE_BLOB_BASE_URL`` (both
``server.url``). It records every request (path, headers, JSON body), checks the bearer token,
enforces LINE's limits (1–5 message objects, ≤ 5,000 UTF-16 units per text), answers a repeated
``X-Line-Retry-Key`` with 409 like LINE does, and can be scripted to fail the next N requests.

Endpoints: push, reply, profile, loading animation, message content, leave group/room.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from crm.demo_channels import demo_line_secrets

TOKEN = "test-line-access-token"
SECRET = "test-line-channel-secret"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int

    @property
    def retry_key(self) -> str | None:
        return self.headers.get("x-line-retry-key")


@dataclass
class Scripted:
    status: int
    body: dict[str, Any]
    path_prefix: str
    remaining: int


@dataclass
class FakeLineState:
    requests: list[Recorded] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)  # accepted push/reply message objects
    accepted_retry_keys: dict[str, str] = field(default_factory=dict)  # key → x-line-request-id
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    contents: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)
    used_reply_tokens: set[str] = field(default_factory=set)
    script: list[Scripted] = field(default_factory=list)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeLineServer:
    """``with FakeLineServer() as line: ...`` — a threaded server on 127.0.0.1, port chosen by the OS."""

    def __init__(self, token: str = TOKEN, port: int = 0, on_request: Any = None) -> None:
        self.token = token
        self.tokens = {token}  # one per LINE official account the server stands in for (add_account)
        self.on_request = on_request  # called with each Recorded (the command-line mode prints them)
        self.state = FakeLineState()
        self.lock = threading.Lock()
        self._ids = itertools.count(100000000000)
        self._httpd = _QuietServer(("127.0.0.1", port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-line", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeLineServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeLineServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting ----------------------------------------------------------------------------

    def fail_next(
        self, status: int, count: int = 1, *, path_prefix: str = "/", message: str | None = None
    ) -> None:
        """The next ``count`` requests under ``path_prefix`` get ``status`` with LINE's error JSON."""
        body = {"message": message or _DEFAULT_MESSAGES.get(status, "error")}
        with self.lock:
            self.state.script.append(Scripted(status, body, path_prefix, count))

    def add_account(self, token: str) -> None:
        """Accept another channel access token (a second LINE official account)."""
        with self.lock:
            self.tokens.add(token)

    def add_profile(self, user_id: str, display_name: str, language: str | None = "ja") -> None:
        profile = {"userId": user_id, "displayName": display_name}
        if language:
            profile["language"] = language
        with self.lock:
            self.state.profiles[user_id] = profile

    def add_content(self, message_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        with self.lock:
            self.state.contents[message_id] = (data, content_type)

    def block(self, user_id: str) -> None:
        with self.lock:
            self.state.blocked.add(user_id)

    # -- inspection ---------------------------------------------------------------------------

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[Recorded]:
        with self.lock:
            return [
                r
                for r in self.state.requests
                if r.path.startswith(path_prefix) and (method is None or r.method == method)
            ]

    def pushes(self) -> list[Recorded]:
        """Push requests LINE accepted (status 200)."""
        return [r for r in self.requests_to("/v2/bot/message/push") if r.status == 200]

    def pushed_texts(self, to: str | None = None, *, token: str | None = None) -> list[str]:
        """Texts pushed (to ``to``; with ``token``: only those sent with that account's access token)."""
        return [
            m["text"]
            for r in self.pushes()
            if (to is None or r.body.get("to") == to)
            and (token is None or r.headers.get("authorization") == f"Bearer {token}")
            for m in r.body["messages"]
        ]

    def replies(self) -> list[Recorded]:
        return [r for r in self.requests_to("/v2/bot/message/reply") if r.status == 200]

    # -- handling -----------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, str]:
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"_unparsed": raw[:200].decode("utf-8", "replace")}
        status, payload, ctype = self._route(method, path, headers, body)
        recorded = Recorded(method, path, headers, body, status)
        with self.lock:
            self.state.requests.append(recorded)
        if self.on_request is not None:
            self.on_request(recorded)
        return status, payload, ctype

    def _route(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any, str]:
        if headers.get("authorization") not in {f"Bearer {t}" for t in self.tokens}:
            return (
                401,
                {
                    "message": "Authentication failed. Confirm that the access token in the authorization header is valid."
                },
                "json",
            )
        with self.lock:
            for item in self.state.script:
                if item.remaining > 0 and path.startswith(item.path_prefix):
                    item.remaining -= 1
                    return item.status, item.body, "json"
        if method == "POST" and path == "/v2/bot/message/push":
            return self._push(headers, body)
        if method == "POST" and path == "/v2/bot/message/reply":
            return self._reply(body)
        if method == "POST" and path == "/v2/bot/chat/loading/start":
            secs = body.get("loadingSeconds", 20) if isinstance(body, dict) else None
            if not isinstance(body, dict) or not body.get("chatId") or secs % 5 or not 5 <= secs <= 60:
                return 400, {"message": "The request body has 1 error(s)"}, "json"
            return 202, {}, "json"
        if method == "POST" and re.fullmatch(r"/v2/bot/(group|room)/[^/]+/leave", path):
            return 200, {}, "json"
        if method == "GET" and (m := re.fullmatch(r"/v2/bot/profile/([^/]+)", path)):
            with self.lock:
                profile = self.state.profiles.get(m.group(1))
            return (200, profile, "json") if profile else (404, {"message": "Not found"}, "json")
        if method == "GET" and (m := re.fullmatch(r"/v2/bot/message/([^/]+)/content", path)):
            with self.lock:
                content = self.state.contents.get(m.group(1))
            if content is None:
                return 404, {"message": "Not found"}, "json"
            return 200, content[0], content[1]
        return 404, {"message": "Not found"}, "json"

    def _check_messages(self, body: Any) -> tuple[int, Any, str] | None:
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
            return (
                400,
                {
                    "message": "The request body has 1 error(s)",
                    "details": [{"message": "Size must be between 1 and 5", "property": "messages"}],
                },
                "json",
            )
        for i, m in enumerate(messages):
            if m.get("type") == "text" and not 1 <= utf16_len(m.get("text", "")) <= 5000:
                return (
                    400,
                    {
                        "message": "The request body has 1 error(s)",
                        "details": [
                            {
                                "message": "Length must be between 0 and 5000",
                                "property": f"messages[{i}].text",
                            }
                        ],
                    },
                    "json",
                )
        return None

    def _sent(self, body: dict[str, Any]) -> dict[str, Any]:
        ids = [{"id": str(next(self._ids)), "quoteToken": "q"} for _ in body["messages"]]
        with self.lock:
            self.state.delivered.extend(body["messages"])
        return {"sentMessages": ids}

    def _push(self, headers: dict[str, str], body: Any) -> tuple[int, Any, str]:
        key = headers.get("x-line-retry-key")
        if key is not None:
            with self.lock:
                if key in self.state.accepted_retry_keys:
                    return 409, {"message": "The retry key is already accepted", "sentMessages": []}, "json"
        problem = self._check_messages(body)
        if problem:
            return problem
        if body.get("to") in self.state.blocked:
            return 400, {"message": "Failed to send messages"}, "json"
        result = self._sent(body)
        if key is not None:
            with self.lock:
                self.state.accepted_retry_keys[key] = "req"
        return 200, result, "json"

    def _reply(self, body: Any) -> tuple[int, Any, str]:
        token = body.get("replyToken") if isinstance(body, dict) else None
        with self.lock:
            if not token or token in self.state.used_reply_tokens or token.startswith("expired"):
                return 400, {"message": "Invalid reply token"}, "json"
            self.state.used_reply_tokens.add(token)
        return self._check_messages(body) or (200, self._sent(body), "json")


_DEFAULT_MESSAGES = {
    400: "The request body has 1 error(s)",
    401: "Authentication failed.",
    403: "Access to this API is not available for your account",
    429: "Too Many Requests",
    500: "Internal server error",
}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-response (a refused oversized download) are normal here.
        return


def _handler_for(server: FakeLineServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = self.path.split("?", 1)[0]
            status, payload, ctype = server.handle(self.command, path, headers, raw)
            if ctype == "json":
                data, ctype = json.dumps(payload).encode(), "application/json"
            else:
                data = payload
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-line-request-id", "fake-" + str(len(server.state.requests)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _serve
        do_POST = _serve

    return Handler


# -- helpers for tests and benchmarks --------------------------------------------------------------

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "line"


def sign(body: bytes, secret: str = SECRET) -> str:
    """The X-Line-Signature LINE would send: base64(HMAC-SHA256(channel secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def fixture_events(name: str) -> list[dict[str, Any]]:
    """The events of ``tests/fixtures/line/<name>.json`` (fresh copies; tests may edit them)."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))["events"]


def fixture_event(name: str, **overrides: Any) -> dict[str, Any]:
    event = fixture_events(name)[0]
    event.update(overrides)
    return event


def webhook_body(*events: dict[str, Any]) -> bytes:
    return json.dumps(
        {"destination": "Uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "events": list(events)}, ensure_ascii=False
    ).encode("utf-8")


def signed_headers(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json; charset=utf-8", "X-Line-Signature": sign(body, secret)}


def line_settings(base: Any, server: FakeLineServer, **extra: Any) -> Any:
    """A copy of ``base`` Settings with the LINE channel enabled and pointed at ``server``."""
    return base.model_copy(
        update={
            "line_channel_secret": SECRET,
            "line_channel_access_token": server.token,
            "line_api_base_url": server.url,
            "line_blob_base_url": server.url,
            **extra,
        }
    )


def text_event(user_id: str, text: str) -> dict[str, Any]:
    """A fresh LINE text message event from ``user_id`` (new ids each call)."""
    n = time.time_ns()
    return {
        "type": "message",
        "mode": "active",
        "timestamp": n // 1_000_000,
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": f"01LOCAL{n}",
        "deliveryContext": {"isRedelivery": False},
        "replyToken": f"local-reply-{n}",
        "message": {"id": str(n // 1000), "type": "text", "quoteToken": f"q{n}", "text": text},
    }


def _print_request(r: Recorded) -> None:
    texts = (
        [m.get("text", m.get("type")) for m in (r.body or {}).get("messages", [])]
        if isinstance(r.body, dict)
        else []
    )
    print(f"{r.status} {r.method} {r.path} {' | '.join(map(str, texts))}", flush=True)


def _demo_center_codes() -> list[str]:
    path = Path(__file__).resolve().parents[2] / "crm" / "demo_data" / "centers.json"
    return [center["code"] for center in json.loads(path.read_text(encoding="utf-8"))]


def main(argv: list[str] | None = None) -> int:
    """Try LINE locally: ``serve`` stands in for LINE's API; ``send`` posts a signed text event."""
    import argparse
    import urllib.error
    import urllib.request

    ap = argparse.ArgumentParser(prog="python -m tests.fakes.line_server", description=main.__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="answer like the LINE Messaging API and print what arrives")
    serve.add_argument("--port", type=int, default=8090)
    send = sub.add_parser("send", help="post a signed text event to a Madoguchi webhook")
    send.add_argument("text")
    send.add_argument("--user", default="U4af4980629000000000000000000local")
    send.add_argument(
        "--account",
        help="the channel account's public id (`madoguchi channel list`): posts to /channels/line/<id>/webhook",
    )
    send.add_argument("--base", default="http://127.0.0.1:8000", help="Madoguchi's address (with --account)")
    send.add_argument(
        "--to", help="the whole webhook URL (default: the MADOGUCHI_LINE_* alias /channels/line/webhook)"
    )
    send.add_argument("--secret", default=SECRET, help="that account's channel secret")
    args = ap.parse_args(argv)
    if args.command == "send" and not args.to:
        path = f"/channels/line/{args.account}/webhook" if args.account else "/channels/line/webhook"
        args.to = args.base.rstrip("/") + path
    if args.command == "serve":
        server = FakeLineServer(port=args.port, on_request=_print_request)
        for code in _demo_center_codes():  # `madoguchi demo`'s LINE accounts point here
            server.add_account(demo_line_secrets(code)["access_token"])
        print(f"LINE stand-in on {server.url} (token {TOKEN!r}, channel secret {SECRET!r}); Ctrl-C stops")
        with contextlib.suppress(KeyboardInterrupt):
            server._httpd.serve_forever()
        return 0
    body = webhook_body(text_event(args.user, args.text))
    request = urllib.request.Request(
        args.to, data=body, headers=signed_headers(body, args.secret), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            print(response.status, response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        print(exc.code, exc.read().decode("utf-8"))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
