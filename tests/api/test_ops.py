"""Operations endpoints and logs: /healthz, /readyz, /metrics (access, content, no PII), request ids."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import create_app
from config.logs import JsonFormatter
from config.runtime import Runtime
from config.settings import Settings
from crm.db import make_engine
from tests.api.conftest import clean_client, login
from tests.conftest import _reset_database
from tests.factories import make_center, make_ticket, make_user

LOOPBACK = ("127.0.0.1", 50123)


def runtime_of(client: TestClient) -> Runtime:
    return client.app.state.runtime  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def local_client(migrated: Settings) -> Iterator[TestClient]:
    """A client that connects from loopback (as Prometheus on the same host would)."""
    app = create_app(migrated, run_jobs=False)
    with TestClient(app, client=LOOPBACK) as c:
        _reset_database(runtime_of(c))
        if runtime_of(c).redis is not None:
            runtime_of(c).redis.flushdb()
        yield c


def unreachable_engine() -> object:
    from tests.integration.test_faults import free_port

    return make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing", pool_size=1)


def start_worker_heartbeat(rt: Runtime) -> None:
    if rt.redis is not None:
        rt.jobs.heartbeat()  # type: ignore[attr-defined]  # what a `madoguchi worker` ticker writes
    else:
        rt.jobs.start([])


# -- /healthz and /readyz ----------------------------------------------------------------------


def test_healthz_answers_without_the_database_and_readyz_names_it(client: TestClient) -> None:
    rt = runtime_of(client)
    start_worker_heartbeat(rt)
    assert client.get("/readyz").status_code == 200
    engine, rt.engine = rt.engine, unreachable_engine()  # type: ignore[assignment]
    try:
        assert client.get("/healthz").json() == {"status": "ok"}
        res = client.get("/readyz")
        assert res.status_code == 503
        body = res.json()
        assert body["checks"]["database"].startswith("unreachable")
        assert any(d.startswith("database:") for d in body["down"]) and "database" in body["detail"]
    finally:
        rt.engine.dispose()
        rt.engine = engine


def test_readyz_reports_missing_workers_until_one_sends_a_heartbeat(client: TestClient) -> None:
    rt = runtime_of(client)
    res = client.get("/readyz")
    assert res.status_code == 503
    assert res.json()["checks"]["database"] == "ok"
    assert "workers" in res.json()["detail"]
    start_worker_heartbeat(rt)
    res = client.get("/readyz")
    assert res.status_code == 200, res.json()
    assert set(res.json()["checks"].values()) == {"ok"}
    if rt.redis is not None:
        assert res.json()["checks"]["redis"] == "ok"


def test_readyz_names_redis_when_it_is_unreachable(client: TestClient) -> None:
    rt = runtime_of(client)
    if rt.redis is None:
        pytest.skip("embedded mode has no Redis")
    from redis import Redis

    from tests.integration.test_faults import free_port

    redis, rt.redis = rt.redis, Redis(port=free_port())
    try:
        res = client.get("/readyz")
        assert res.status_code == 503
        assert res.json()["checks"]["redis"].startswith("unreachable")
        assert res.json()["checks"]["workers"].startswith("unknown")
    finally:
        rt.redis.close()
        rt.redis = redis


# -- /metrics -----------------------------------------------------------------------------------


def test_metrics_are_refused_to_a_remote_client(client: TestClient) -> None:
    res = client.get("/metrics")  # TestClient's address is "testclient", not loopback
    assert res.status_code == 403 and "MADOGUCHI_METRICS_TOKEN" in res.json()["detail"]


def test_metrics_from_loopback_behind_a_proxy_are_refused(local_client: TestClient) -> None:
    assert local_client.get("/metrics").status_code == 200
    assert local_client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403


def test_metrics_token_is_required_once_set(migrated: Settings) -> None:
    settings = migrated.model_copy(update={"metrics_token": "s3cret-metrics-token"})
    with TestClient(create_app(settings, run_jobs=False), client=LOOPBACK) as c:
        assert c.get("/metrics").status_code == 403
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
        res = c.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
        assert res.status_code == 200 and res.headers["content-type"].startswith("text/plain")
    with clean_client(settings) as remote:
        ok = remote.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
        assert ok.status_code == 200


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in the exposition text (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_by_route_template_and_hold_no_personal_data(local_client: TestClient) -> None:
    rt = runtime_of(local_client)
    with Session(rt.engine, expire_on_commit=False) as s:
        center = make_center(s)
        user = make_user(s, center)
        ticket = make_ticket(s, center, "山田太郎 090-1234-5678 の相談", sender="U-metrics-sender")
    headers = login(local_client, user.username)
    before = sample(
        local_client.get("/metrics").text,
        "madoguchi_http_request_duration_seconds_count",
        route="/api/tickets/{ticket_id}",
        status="200",
    )
    for _ in range(3):
        assert (
            local_client.get(f"/api/tickets/{ticket.id}?q=090-1234-5678", headers=headers).status_code == 200
        )
    local_client.get("/no/such/path/U-metrics-sender")
    text = local_client.get("/metrics").text
    count = sample(
        text, "madoguchi_http_request_duration_seconds_count", route="/api/tickets/{ticket_id}", status="200"
    )
    assert count == before + 3
    assert sample(text, "madoguchi_http_request_duration_seconds_count", route="unmatched", status="404") >= 1
    for secret in ("山田", "090-1234-5678", "U-metrics-sender", f"/api/tickets/{ticket.id}", user.username):
        assert secret not in text, f"{secret!r} leaked into /metrics"
    assert "madoguchi_inbound_events" in text and "madoguchi_workers_alive" in text


def test_metrics_show_queue_depths_read_at_scrape_time(local_client: TestClient) -> None:
    rt = runtime_of(local_client)
    from crm.models import InboundEvent, OutboxItem

    with Session(rt.engine) as s:
        for i in range(3):
            s.add(InboundEvent(channel="line", provider_event_id=f"depth-{i}", sender="U-depth", raw="{}"))
        s.add(OutboxItem(channel="line", recipient="U-depth", retry_key="depth-1", body="x"))
        s.commit()
    text = local_client.get("/metrics").text
    assert sample(text, "madoguchi_inbound_events", channel="line", status="pending") == 3
    assert sample(text, "madoguchi_outbox_items", channel="line", status="pending") == 1
    if rt.redis is not None:
        assert 'madoguchi_rq_jobs{queue="' in text


# -- request ids and JSON logs --------------------------------------------------------------------


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_a_sane_request_id_is_kept_and_anything_else_replaced(client: TestClient) -> None:
    res = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    assert res.headers.get_list("x-request-id") == ["lb-7f3a.42"]
    for bad in ("has spaces in it", "x" * 65, "<script>"):
        got = client.get("/healthz", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert got != bad and re.fullmatch(r"[0-9a-f]{32}", got)
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/healthz").headers["x-request-id"])


def test_access_log_is_one_json_object_per_line_without_query_or_address(
    client: TestClient, json_log: io.StringIO
) -> None:
    res = client.get("/api/tickets?status=new&q=090-1234-5678", headers={"X-Request-ID": "req-abc-1"})
    assert res.status_code == 401
    lines = [json.loads(line) for line in json_log.getvalue().splitlines() if line.strip()]
    access = [e for e in lines if e["logger"] == "madoguchi.access"]
    assert len(access) == 1
    entry = access[0]
    assert {"ts", "level", "logger", "msg", "request_id"} <= entry.keys()
    assert entry["request_id"] == "req-abc-1"
    assert entry["route"] == "/api/tickets" and entry["status"] == 401
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+09:00", entry["ts"])  # JST
    ours = "\n".join(
        json.dumps(e, ensure_ascii=False) for e in lines if not e["logger"].startswith("httpx")
    )  # not the client's
    assert "090-1234-5678" not in ours and "testclient" not in ours and "status=new" not in ours


def test_log_lines_inside_a_request_carry_its_id() -> None:
    from config.logs import request_id_var

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("madoguchi.test-request-id")
    log.addHandler(handler)
    log.propagate = False
    token = request_id_var.set("rid-123")
    try:
        log.warning("相談 %d 件", 3)
    finally:
        request_id_var.reset(token)
        log.removeHandler(handler)
    entry = json.loads(buffer.getvalue())
    assert entry["msg"] == "相談 3 件" and entry["request_id"] == "rid-123" and entry["level"] == "WARNING"
