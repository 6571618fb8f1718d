"""GET /healthz: is the database (and Redis, when configured) answering?"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from crm.deps import RuntimeDep

router = APIRouter()


@router.get("/healthz", tags=["ops"])
def healthz(runtime: RuntimeDep) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if runtime.redis is not None:
        try:
            runtime.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"unreachable: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks}, status_code=200 if healthy else 503
    )
