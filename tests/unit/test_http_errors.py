"""The common error handlers: what used to escape as a 500 answers 4xx with the documented body."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import DataError, StatementError

from crm.errors import Conflict
from crm.http_errors import ERROR_RESPONSES, ErrorBody, install


def _raises(exc: BaseException) -> TestClient:
    app = FastAPI()
    install(app)

    @app.get("/boom", responses=ERROR_RESPONSES)
    def boom() -> None:
        raise exc

    return TestClient(app, raise_server_exceptions=True)


@pytest.mark.parametrize(
    ("exc", "status", "words"),
    [
        (RecursionError("maximum recursion depth exceeded"), 400, "nested"),
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), 422, "surrogate"),
        (OverflowError("Python int too large to convert to SQLite INTEGER"), 422, "out of range"),
        (DataError("SELECT", {}, Exception("integer out of range")), 422, "out of range"),
        (
            StatementError("bind", "SELECT", {}, UnicodeEncodeError("utf-8", "\udfff", 0, 1, "x")),
            422,
            "surrogate",
        ),
        (Conflict("cannot change status from new to closed \ud800"), 409, "cannot change"),
    ],
)
def test_handlers_answer_the_documented_body(exc: BaseException, status: int, words: str) -> None:
    res = _raises(exc).get("/boom")
    assert res.status_code == status
    assert words in ErrorBody.model_validate(res.json()).detail


def test_other_database_errors_still_fail_loudly() -> None:
    with pytest.raises(StatementError):
        _raises(StatementError("bind", "SELECT", {}, KeyError("x"))).get("/boom")
