"""The FastAPI application: lifespan, routers, and one domain-error → HTTP mapping. No logic."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from config.modules import import_optional
from config.settings import Settings, get_settings
from config.wiring import build_runtime, set_runtime
from crm.errors import DomainError

log = logging.getLogger("madoguchi")

# Routers of the packages; a package that is not installed is simply not mounted.
OPTIONAL_ROUTERS = (
    "channels.line.webhook",
    "routing.api",
    "knowledge.api",
    "crm.console",
)


def create_app(settings: Settings | None = None, *, run_jobs: bool | None = None) -> FastAPI:
    """Build the app. ``run_jobs`` (default: embedded mode) starts the in-process job thread."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build_runtime(settings)
        app.state.runtime = runtime
        start_jobs = run_jobs if run_jobs is not None else runtime.redis is None
        if start_jobs:
            runtime.jobs.start(runtime.periodic)
        runtime.live.start()
        try:
            yield
        finally:
            runtime.close()
            set_runtime(None)

    app = FastAPI(
        title="Madoguchi 窓口",
        summary="Omnichannel contact-center backend for consumer affairs centers (消費生活センター)",
        version="0.1.0",
        lifespan=lifespan,
    )
    _add_error_handlers(app)
    from config.health import router as health_router
    from crm.accident_api import router as accident_router
    from crm.api import router as crm_router
    from crm.live_api import router as live_router

    app.include_router(health_router)
    app.include_router(crm_router)
    app.include_router(live_router)
    app.include_router(accident_router)
    for module_name in OPTIONAL_ROUTERS:
        module = import_optional(module_name)
        if module is not None:
            app.include_router(module.router)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_describe(err) for err in exc.errors()]
        return JSONResponse(
            {"detail": "invalid request: " + "; ".join(problems), "errors": _jsonable(exc.errors())},
            status_code=422,
        )


def _describe(err: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
    if err.get("type") == "extra_forbidden":
        return f"{where}: unknown field (remove it)"
    return f"{where}: {err.get('msg', 'invalid')}"


def _jsonable(errors: Any) -> list[dict[str, Any]]:
    return [
        {
            k: (v if isinstance(v, str | int | float | list | tuple | type(None)) else str(v))
            for k, v in e.items()
            if k != "ctx"
        }
        for e in errors
    ]


def __getattr__(name: str) -> Any:
    # `uvicorn app:app` builds the app lazily so importing this module never reads the environment.
    if name == "app":
        return create_app()
    raise AttributeError(name)
