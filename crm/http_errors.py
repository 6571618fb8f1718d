"""One error body for every failure, documented on every route, and the handlers that produce it.

Every error answers ``{"detail": "<what went wrong and what to do>"}``; a 422 from request
validation adds ``errors`` (where and why, never the input echoed back). ``ERROR_RESPONSES`` is
passed to ``include_router`` for every router so the OpenAPI document says so, and
:func:`install` maps what used to escape as a 500:

* a JSON body nested too deeply for the parser (RecursionError)                      → 400
* text that cannot be encoded as UTF-8 (a lone surrogate such as ``\\ud800``)        → 422
* a number outside what its column can hold (an id ≥ 2**63, an amount past BIGINT)   → 422
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, StatementError

from crm.errors import DomainError

log = logging.getLogger("madoguchi.http")

MAX_ID = 2**31 - 1  # primary keys are INTEGER columns (32-bit on PostgreSQL)
Id = Annotated[int, Path(ge=1, le=MAX_ID, description=f"a row id, 1..{MAX_ID}")]


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """The body of every error response."""

    detail: str = Field(description="what went wrong and what to do about it")
    errors: list[FieldError] | None = Field(default=None, description="422 only: each invalid field")


def _doc(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc("Bad request: the request cannot be processed as sent"),
    401: _doc("Not logged in, or the token is invalid or expired"),
    403: _doc("Logged in, but not allowed (another center's object, or a role is needed)"),
    404: _doc("No such object"),
    409: _doc("Conflict with the object's current state"),
    413: _doc("Payload too large"),
    422: _doc("Invalid input: ``detail`` names each field, ``errors`` lists them"),
    429: _doc("Too many requests: retry after the Retry-After header's seconds"),
    503: _doc("Unavailable: a dependency is down or not configured; ``detail`` says which"),
}


def install(app: FastAPI) -> None:
    """Register the handlers that turn domain errors and malformed input into ErrorBody responses."""
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(RecursionError, _too_deep)  # type: ignore[arg-type]
    app.add_exception_handler(UnicodeError, _not_utf8)  # type: ignore[arg-type]
    app.add_exception_handler(OverflowError, _out_of_range)  # type: ignore[arg-type]
    app.add_exception_handler(DataError, _out_of_range)  # type: ignore[arg-type]
    app.add_exception_handler(StatementError, _statement_error)  # type: ignore[arg-type]
    _document_error_bodies(app)


def _document_error_bodies(app: FastAPI) -> None:
    """A route may describe its own 4xx (``responses={404: {"description": ...}}``), which replaces the
    router's entry: give each such response the ErrorBody schema in the OpenAPI document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = build()
        body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for item in spec.get("paths", {}).values():
            for op in item.values():
                for code, response in op.get("responses", {}).items():
                    if str(code).startswith("4") and "content" not in response:
                        response["content"] = body
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else {}
    headers |= getattr(exc, "headers", None) or {}  # e.g. Retry-After on 429
    return error(exc.status_code, _printable(exc.message), headers or None)


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {
            "loc": [str(p) if not isinstance(p, int) else p for p in e.get("loc", ())],
            "msg": _printable(str(e.get("msg", "invalid"))),
            "type": str(e.get("type", "value_error")),
        }
        for e in exc.errors()
    ]
    detail = "invalid request: " + "; ".join(_describe(e) for e in errors)
    return JSONResponse({"detail": detail, "errors": errors}, status_code=422)


async def _too_deep(request: Request, _exc: RecursionError) -> JSONResponse:
    log.info("refused a too deeply nested body on %s", request.url.path)
    return error(400, "the JSON body is nested too deeply: send a flatter document")


async def _not_utf8(request: Request, _exc: UnicodeError) -> JSONResponse:
    log.info("refused text that is not valid Unicode on %s", request.url.path)
    return error(
        422,
        "the text contains a character that cannot be stored (a lone surrogate such as \\ud800): "
        "send valid UTF-8",
    )


async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
    log.info("refused an out-of-range value on %s: %s", request.url.path, type(exc).__name__)
    return error(
        422, f"a number is out of range for its field (ids are 1..{MAX_ID}): check the ids and amounts"
    )


async def _statement_error(request: Request, exc: StatementError) -> JSONResponse:
    if isinstance(exc.orig, UnicodeError):
        return await _not_utf8(request, exc.orig)
    if isinstance(exc.orig, OverflowError | DataError):
        return await _out_of_range(request, exc)
    raise exc


def _describe(err: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in err["loc"] if p != "body") or "body"
    if err["type"] == "extra_forbidden":
        return f"{where}: unknown field (remove it)"
    if err["type"] == "string_unicode":
        return f"{where}: text that cannot be encoded as UTF-8 (a lone surrogate such as \\ud800): send valid text"
    return f"{where}: {err['msg']}"


def _printable(text: str) -> str:
    """The text, with anything UTF-8 cannot carry replaced (messages may quote the input)."""
    return text.encode("utf-8", "replace").decode("utf-8")
