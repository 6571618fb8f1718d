"""The FastAPI application: lifespan, routers, and one domain-error → HTTP mapping. No logic."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from bootstrap import build_runtime, set_runtime
from config.modules import import_optional
from config.settings import Settings, get_settings
from crm.http_errors import ERROR_RESPONSES
from crm.http_errors import install as install_error_handlers
from knowledge.wiring import warm_up as warm_up_knowledge

log = logging.getLogger("madoguchi")

# Routers of the packages; a package that is not installed is simply not mounted.
OPTIONAL_ROUTERS = (
    "channels.line.webhook",
    "channels.email.inbound_api",
    "channels.voice.webhook",  # Twilio Voice: IVR, queue, status callbacks, softphone TwiML
    "channels.voice.api",  # /api/voice/stats, /api/voice/token
    "routing.api",
    "routing.slack_command",  # the /madoguchi Slack slash command (signed by Slack)
    "knowledge.api",
    "knowledge.export_api",  # the PIO-NET-style case export (cross-center view)
    "crm.records_api",  # the consultation record: rules, submit, review (決裁)
    "knowledge.record_fill_api",  # the record prefilled from the conversation
    "knowledge.trends.api",  # consultation trends: stats, spikes, digest, anonymized exports
    "crm.console",
    "crm.console.docs",  # /docs with Swagger UI served locally (no CDN on closed networks)
    "crm.contacts_api",  # the console's consumer sidebar
    "crm.worklist_api",  # assign to me, colleagues
    "crm.attachments_api",  # consumers' files, downloaded safely
    "crm.templates_api",  # canned responses per center
    "routing.wallboard_api",  # the supervisor wallboard
    "crm.privacy_api",
    "crm.channels_api",  # administration: channel accounts
    "crm.admin_api",  # administration: centers, users
)


def create_app(settings: Settings | None = None, *, run_jobs: bool | None = None) -> FastAPI:
    """Build the app. ``run_jobs`` (default: embedded mode) starts the in-process job thread."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build_runtime(settings)
        app.state.runtime = runtime
        _freeze_startup_objects()
        start_jobs = run_jobs if run_jobs is not None else runtime.redis is None
        if start_jobs:
            runtime.jobs.start(runtime.periodic)
        runtime.live.start()
        warm_up_knowledge(runtime)  # the query encoder loads off the request path (knowledge.wiring)
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
        docs_url=None,  # served by crm.console.docs from local files, not a CDN
    )
    _add_error_handlers(app)
    from crm.http_security import SecurityHeadersMiddleware

    app.add_middleware(SecurityHeadersMiddleware, trusted_proxies=settings.trusted_proxies)
    from config.observe import ObserveMiddleware

    app.add_middleware(ObserveMiddleware)  # outermost: request id, metrics, access log
    from sqlalchemy.exc import OperationalError

    from config.health import database_unavailable

    app.add_exception_handler(OperationalError, database_unavailable)  # 503 + Retry-After, not 500
    from config.health import router as health_router
    from crm.accident_api import router as accident_router
    from crm.accident_check_api import router as accident_check_router
    from crm.api import router as crm_router
    from crm.live_api import router as live_router

    optional = [m for name in OPTIONAL_ROUTERS if (m := import_optional(name)) is not None]
    for module in optional:  # the LINE webhook's hot path, pure ASGI, ahead of every middleware
        if module.__name__ == "channels.line.webhook":
            app.add_middleware(module.FastPath)
    # Starlette matches routes in order: the vendors' webhooks (the hot path, one request per consumer
    # event) come first so that they are not matched against the ~150 console and API routes.
    for module in sorted(optional, key=lambda m: not m.__name__.startswith("channels.")):
        if module.__name__.startswith("channels."):
            app.include_router(module.router, responses=ERROR_RESPONSES)
    app.include_router(health_router, responses=ERROR_RESPONSES)
    app.include_router(crm_router, responses=ERROR_RESPONSES)
    app.include_router(live_router, responses=ERROR_RESPONSES)
    app.include_router(accident_router, responses=ERROR_RESPONSES)
    app.include_router(accident_check_router, responses=ERROR_RESPONSES)
    for module in optional:
        if not module.__name__.startswith("channels."):
            app.include_router(module.router, responses=ERROR_RESPONSES)
    return app


_FROZEN: list[bool] = []


def _freeze_startup_objects() -> None:
    """Once per process: the ~190k objects of start-up (modules, routes, models) leave the cyclic
    GC's sight (``gc.freeze``), so a full collection no longer stalls requests for ~100 ms."""
    if not _FROZEN:
        _FROZEN.append(True)
        gc.freeze()


def _add_error_handlers(app: FastAPI) -> None:
    """One error body for everything (crm/http_errors.py): domain errors, validation, malformed input."""
    install_error_handlers(app)


def __getattr__(name: str) -> Any:
    # `uvicorn app:app` builds the app lazily so importing this module never reads the environment.
    if name == "app":
        return create_app()
    raise AttributeError(name)
