"""Logs: one JSON object per line (ts in JST, level, logger, msg, request_id), or plain text in dev.

The request id comes from :mod:`config.observe` (the ``X-Request-ID`` middleware) through a context
variable, so every line a request causes carries it, threads of ``anyio.to_thread`` included.
Access lines name the route template (``/api/tickets/{ticket_id}``), never the query string, the
client address or a body: no personal data in logs.
"""

from __future__ import annotations

import json
import logging
import logging.config
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from config.settings import Settings

JST = timezone(timedelta(hours=9), "JST")
request_id_var: ContextVar[str | None] = ContextVar("madoguchi_request_id", default=None)

# Extra attributes an access line (or any caller) may pass with ``extra={...}``; nothing else is copied.
EXTRA_FIELDS = ("method", "route", "status", "duration_ms", "job", "channel")


class JsonFormatter(logging.Formatter):
    """``{"ts": "2026-12-02T04:41:00.123+09:00", "level": "INFO", "logger": ..., "msg": ..., "request_id": ...}``"""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC)
            .astimezone(JST)
            .isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": _request_id(record),
        }
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _request_id(record: logging.LogRecord) -> str | None:
    given = getattr(record, "request_id", None)
    return (given if given and given != "-" else None) or request_id_var.get()


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (for the text format's ``%(request_id)s``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get() or "-"
        return True


def logging_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for our loggers and uvicorn's (also passed to ``uvicorn.run``)."""
    json_format = settings.log_format == "json"
    formatter: dict[str, Any] = (
        {"()": "config.logs.JsonFormatter"}
        if json_format
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "config.logs.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": settings.log_level},
        "loggers": {
            # uvicorn's own lines go through our handler; its access log (client address, full
            # path with query) is replaced by ours (madoguchi.access).
            "uvicorn": {"handlers": [], "level": "INFO", "propagate": True},
            "uvicorn.error": {"handlers": [], "level": "INFO", "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def configure_logging(settings: Settings) -> None:
    """Install the handlers for this process (``madoguchi serve`` passes the same config to uvicorn)."""
    logging.config.dictConfig(logging_config(settings))
