"""The observing middleware (pure ASGI, so streaming and SSE pass untouched): request id, metrics, access log.

* ``X-Request-ID``: taken from the request when it is a sane token (``[A-Za-z0-9._:-]``, at most 64),
  else generated; answered in the response header and put in every log line of the request.
* latency by route template, method and status (:mod:`config.metrics`), and webhook outcomes for
  routes under ``/channels/<kind>/``;
* one access line per request on ``madoguchi.access``: method, route template, status, duration. No
  path values, query string, client address or body: nothing personal.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from config import metrics
from config.logs import request_id_var

access_log = logging.getLogger("madoguchi.access")
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_WEBHOOK_ROUTE = re.compile(r"^/channels/(?P<channel>[a-z_]+)/")
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})  # scraped every few seconds: no access line

Scope = dict[str, Any]


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _SANE_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's path template; ``unmatched`` for a 404 (random paths must not become labels)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


class ObserveMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        request_id = request_id_from(headers)
        # The id the inner layers see too (crm.http_security puts it in the audit rows).
        scope["headers"] = [(k, v) for k, v in headers if k != b"x-request-id"]
        scope["headers"].append((b"x-request-id", request_id.encode("ascii")))
        token = request_id_var.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                out = list(message.get("headers", []))
                if not any(k.lower() == b"x-request-id" for k, _ in out):
                    out.append((b"x-request-id", request_id.encode("ascii")))
                message = {**message, "headers": out}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - started, request_id)
            request_id_var.reset(token)

    @staticmethod
    def _record(scope: Scope, status: int, seconds: float, request_id: str) -> None:
        state = scope.get("state")  # request.state of the route (it may name a finer result)
        result = state.get("webhook_result") if isinstance(state, dict) else None
        record(scope.get("method", ""), route_template(scope), status, seconds, request_id, result)


def record(
    method: str, route: str, status: int, seconds: float, request_id: str, webhook_result: str | None = None
) -> None:
    """Metrics and the access line of one request (also for pure-ASGI hot paths that bypass the middleware)."""
    metrics.observe_request(method, route, status, seconds)
    webhook = _WEBHOOK_ROUTE.match(route)
    if webhook and method == "POST":  # every vendor callback: LINE webhook, inbound mail, Twilio
        metrics.observe_webhook(webhook.group("channel"), status, webhook_result)
    if route not in QUIET_ROUTES:
        access_log.info(
            "%s %s %d %.1f ms",
            method,
            route,
            status,
            seconds * 1000,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "request_id": request_id,
            },
        )
