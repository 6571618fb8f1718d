"""Operations routes: ``/healthz`` (liveness), ``/readyz`` (readiness) and ``/metrics`` (Prometheus).

* ``/healthz`` answers as long as the process serves requests; it touches no database or Redis, so a
  slow database never makes an orchestrator kill healthy processes.
* ``/readyz`` checks what a request needs: the database, Redis (when configured) and at least one job
  worker with a recent heartbeat (RQ workers write one from their ticker every second; embedded mode:
  the job thread of this process). 503 names what is down.
* ``/metrics`` is allowed from loopback without forwarding headers when ``MADOGUCHI_METRICS_TOKEN`` is
  unset, and only with ``Authorization: Bearer <token>`` when it is set. It holds no personal data.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from config import metrics
from config.jobs import HEARTBEAT_MAX_AGE

log = logging.getLogger(__name__)
router = APIRouter(tags=["ops"])


def _runtime(request: Request) -> Any:
    return request.app.state.runtime  # config sits below crm: no crm.deps here


RuntimeDep = Annotated[Any, Depends(_runtime)]


@router.get("/healthz", summary="Liveness: the process answers (no database, no Redis)")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: database, Redis and job workers",
    responses={503: {"description": "not ready; `down` names each failing dependency and why"}},
)
def readyz(runtime: RuntimeDep) -> JSONResponse:
    checks = readiness(runtime)
    down = [f"{name}: {state}" for name, state in checks.items() if state != "ok"]
    body: dict[str, Any] = {"status": "ready" if not down else "not ready", "checks": checks}
    if down:
        body["down"] = down
        body["detail"] = "not ready: " + "; ".join(down)
    return JSONResponse(body, status_code=503 if down else 200)


def readiness(runtime: Any) -> dict[str, str]:
    """``{"database": "ok", "redis": "ok", "workers": "ok"}``, or what is wrong instead of "ok"."""
    checks = {"database": _check_database(runtime)}
    redis_ok = True
    if runtime.redis is not None:
        checks["redis"] = _check_redis(runtime)
        redis_ok = checks["redis"] == "ok"
    checks["workers"] = _check_workers(runtime) if redis_ok else "unknown (Redis is unreachable)"
    return checks


def _check_database(runtime: Any) -> str:
    try:
        # A raw DBAPI connection: no SQLAlchemy "begin" (on SQLite BEGIN IMMEDIATE would wait for a writer).
        conn = runtime.engine.raw_connection()
        try:
            cur = conn.cursor()
            cur.execute("SELECT 1")
            cur.fetchall()
            cur.close()
        finally:
            conn.close()
        return "ok"
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"


def _check_redis(runtime: Any) -> str:
    try:
        runtime.redis.ping()
        return "ok"
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"


def _check_workers(runtime: Any) -> str:
    try:
        alive = runtime.jobs.workers_alive(HEARTBEAT_MAX_AGE)
    except Exception as exc:
        return f"unknown ({type(exc).__name__})"
    if alive:
        return "ok"
    if runtime.redis is not None:
        return f"no worker heartbeat in the last {HEARTBEAT_MAX_AGE:.0f} s (is `madoguchi worker` running?)"
    return "the in-process job thread is not running"


@router.get(
    "/metrics",
    summary="Prometheus metrics (loopback, or a bearer MADOGUCHI_METRICS_TOKEN)",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format"},
        403: {"description": "not from loopback and no valid metrics token"},
    },
)
async def metrics_endpoint(request: Request, runtime: RuntimeDep) -> Response:
    if not metrics_allowed(request, runtime.settings.metrics_token):
        return JSONResponse(
            {
                "detail": "GET /metrics is allowed from loopback, or with "
                "'Authorization: Bearer <MADOGUCHI_METRICS_TOKEN>' when that token is set"
            },
            status_code=403,
        )
    body = await run_in_threadpool(metrics.render, runtime)
    return Response(body, media_type=metrics.CONTENT_TYPE)


def metrics_allowed(request: Request, token: str) -> bool:
    if token:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    if request.headers.get("x-forwarded-for") or request.headers.get("forwarded"):
        return False  # through a proxy: the loopback address is the proxy's, not the caller's
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """A dropped or refused database connection (OperationalError) is a 503 the client may retry, not a 500."""
    log.warning("database unavailable: %s", str(exc).splitlines()[0][:200])
    return JSONResponse(
        {"detail": "the database is unavailable right now; nothing was stored: try again in a few seconds"},
        status_code=503,
        headers={"Retry-After": "5"},
    )
