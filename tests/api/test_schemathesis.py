"""schemathesis over every operation of the OpenAPI document (issue 10): no server error, and every
response conforms to what is documented (status code, content type, headers, body schema).

A fixed budget (``MAX_EXAMPLES`` per operation, derandomized) keeps it deterministic and quick; each
operation runs against a freshly seeded database, as an admin and as a counselor of the seeded center.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session

from app import create_app
from config.settings import Settings
from crm.models import Role
from tests.api.conftest import login
from tests.conftest import TEST_SECRET
from tests.factories import make_center, make_ticket, make_user

MAX_EXAMPLES = 20
# 503 is a documented answer, not a crash: /readyz while the job thread is down (these tests run
# without it) and the LINE webhook of an unconfigured channel. Every other 5xx fails the run.
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# What cannot be tested by request/response: the live-events stream never ends (SSE).
EXCLUDED = {("GET", "/api/events")}

SPEC: dict[str, Any] = create_app(Settings(env="test", secret_key=TEST_SECRET), run_jobs=False).openapi()
OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in SPEC["paths"].items()
    for method in item
    if (method.upper(), path) not in EXCLUDED
)


@pytest.fixture
def identities(client: TestClient, db: Session) -> dict[str, dict[str, str]]:
    center = make_center(db, "FUZZ")
    make_user(db, None, "fuzz-admin", role=Role.ADMIN)
    make_user(db, center, "fuzz-counselor")
    make_ticket(db, center)
    db.commit()
    tokens = {"admin": login(client, "fuzz-admin"), "counselor": login(client, "fuzz-counselor")}
    client.cookies.clear()  # bearer tokens only: the console's session cookie is not under test here
    return tokens


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms_to_its_schema(
    method: str, path: str, client: TestClient, identities: dict[str, dict[str, str]]
) -> None:
    operation = schemathesis.openapi.from_dict(SPEC)[path][method]

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), who=st.sampled_from(sorted(identities)), seeded=st.booleans())
    def run(case: schemathesis.Case, who: str, seeded: bool) -> None:
        if seeded and case.path_parameters:  # half the examples address the seeded rows (id 1)
            case.path_parameters = {k: 1 if k.endswith("_id") else v for k, v in case.path_parameters.items()}
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=identities[who])
        kwargs.pop("timeout", None)
        if cookies := kwargs.pop("cookies", None):
            kwargs["headers"] = {
                **kwargs.get("headers", {}),
                "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            }
        if isinstance(kwargs.get("data"), bytes | str):
            kwargs["content"] = kwargs.pop("data")
        response = client.request(**kwargs)
        assert response.status_code < 500 or response.status_code == 503, (
            response.status_code,
            response.text,
        )
        case.validate_response(response, checks=CHECKS)

    run()
