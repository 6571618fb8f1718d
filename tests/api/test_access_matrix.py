"""The access matrix, generated from the app's route table.

Every route × (anonymous, counselor A, counselor B, supervisor A, admin) × (center A's object, center
B's object) is called and its status compared with the rule of the route in :data:`RULES`. A route
without a rule fails :func:`test_every_route_declares_its_access_rule`: a new route must say who may
call it. Objects are real rows made by the factories; each unsafe call gets a fresh world.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import create_app
from config.runtime import Runtime
from config.settings import Settings
from crm import accidents
from crm.models import AccidentCheck, Attachment, CannedResponse, Message, Role, Ticket, TicketStatus, utcnow
from crm.security import create_access_token
from knowledge import service as knowledge
from tests.conftest import _reset_database
from tests.factories import make_center, make_user, receive

ANON, CA, CB, SA, ADMIN = "anonymous", "counselor A", "counselor B", "supervisor A", "admin"
IDENTITIES = (ANON, CA, CB, SA, ADMIN)
SIDES = ("A", "B")  # center A's object (counselor A's and supervisor A's own), center B's object
SAFE = {"GET", "HEAD", "OPTIONS"}


@dataclass
class World:
    """Two centers and, for each, the objects routes take ids of."""

    headers: dict[str, dict[str, str]]
    ids: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind -> side -> id

    def id(self, kind: str, side: str) -> Any:
        return self.ids[kind][side]


Params = Callable[[World, str], dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    """Who may call a route. ``access``:

    * ``public``: anyone, ``ok`` for all; ``signed``: the vendor's signature decides, ``ok`` for all;
    * ``user``: any logged-in user; ``supervisor``: supervisors and admins; ``admin``: admins;
    * ``center``: users of the object's center, and admins; ``supervisor_center``: the object's
      center's supervisors, and admins; ``offeree``: only the counselor the offer was made to.
    """

    access: str
    ok: frozenset[int]
    params: Params | None = None
    json: Callable[[World, str], Any] | None = None
    data: dict[str, str] | None = None
    query: dict[str, Any] | None = None
    denied: int = 403
    stream: bool = False  # endless response: only refused calls are made


def rule(access: str, *ok: int, **kw: Any) -> Rule:
    return Rule(access, frozenset(ok or (200,)), **kw)


def on(kind: str, name: str) -> Params:
    return lambda w, side: {name: w.id(kind, side)}


TICKET = on("ticket", "ticket_id")
REPORT = on("report", "report_id")
CENTER_ID = on("center", "center_id")
note = {"body": "内部メモ"}

RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/openapi.json"): rule("public"),
    ("GET", "/docs"): rule("public"),
    ("GET", "/docs/oauth2-redirect"): rule("public"),
    ("GET", "/docs/assets/{name}"): rule("public", params=lambda w, s: {"name": "swagger-ui.css"}),
    ("GET", "/redoc"): rule("public"),
    ("GET", "/healthz"): rule("public"),
    ("GET", "/readyz"): rule("public", 200, 503),
    ("GET", "/metrics"): rule("signed", 403),  # loopback or MADOGUCHI_METRICS_TOKEN, never a user's token
    ("GET", "/"): rule("public"),
    ("GET", "/console/{asset}"): rule("public", params=lambda w, s: {"asset": "main.js"}),
    ("GET", "/console/vendor/twilio-voice-sdk-2.18.5/{name}"): rule(
        "public", params=lambda w, s: {"name": "twilio.min.js"}
    ),
    ("GET", "/console/sounds/{name}"): rule("public", params=lambda w, s: {"name": "incoming.wav"}),
    ("POST", "/api/auth/token"): rule("public", 401, data={"username": "nobody", "password": "x" * 8}),
    ("POST", "/api/auth/logout"): rule("public", 204),
    ("POST", "/channels/line/webhook"): rule(
        "signed", 400, 401, 403, 404, 503, json=lambda w, s: {"events": []}
    ),
    ("POST", "/channels/line/{public_id}/webhook"): rule(
        "signed",
        400,
        401,
        403,
        404,
        json=lambda w, s: {"events": []},
        params=lambda w, s: {"public_id": "nope"},
    ),
    # the account's inbound token, never a user's token: 401 for everyone
    ("POST", "/channels/email/{public_id}/inbound"): rule(
        "signed", 401, params=on("channel_public", "public_id"), json=lambda w, s: {"raw": "x"}
    ),
    # Twilio's X-Twilio-Signature decides (channels/voice/webhook.py), never a user's token: unsigned → 403
    ("POST", "/channels/twilio/voice"): rule(
        "signed", 403, 404, data={"CallSid": "CA0", "To": "+81300000000", "From": "+81312345678"}
    ),
    ("POST", "/channels/twilio/{public_id}/voice"): rule(
        "signed", 403, 404, data={"CallSid": "CA0"}, params=lambda w, s: {"public_id": "nope"}
    ),
    ("POST", "/channels/twilio/{public_id}/voice/{step}"): rule(
        "signed", 403, 404, data={"CallSid": "CA0"}, params=lambda w, s: {"public_id": "nope", "step": "wait"}
    ),
    ("POST", "/channels/twilio/client"): rule(
        "signed", 403, data={"CallSid": "CA0", "From": "client:user-1"}
    ),
    ("GET", "/api/voice/stats"): rule("supervisor"),
    # the matrix's tickets are not calls: 404 for whoever may see them
    ("POST", "/api/voice/calls/{ticket_id}/hangup"): rule("center", 404, params=TICKET),
    ("POST", "/api/voice/calls/{ticket_id}/callback"): rule("center", 404, params=TICKET),
    ("GET", "/api/voice/calls/{ticket_id}"): rule("center", 404, params=TICKET),
    ("POST", "/api/voice/calls/{ticket_id}/consult"): rule(
        "center", 404, params=TICKET, json=lambda w, s: {"to_center": "OSK"}
    ),
    ("POST", "/api/voice/calls/{ticket_id}/consult/complete"): rule("center", 404, params=TICKET),
    ("POST", "/api/voice/calls/{ticket_id}/consult/cancel"): rule("center", 404, params=TICKET),
    # 503: the softphone's Twilio API key is not configured in the test settings
    ("GET", "/api/voice/token"): rule("user", 200, 503),
    # Slack's signature (routing/slack_command.py), never a user's token: 401, or 503 when not configured
    ("POST", "/integrations/slack/commands"): rule("signed", 401, 503),
    ("GET", "/api/me"): rule("user"),
    ("GET", "/api/centers"): rule("user"),
    ("GET", "/api/tickets"): rule("user"),
    # an endless stream: only the refusal is checked here (tests/api/test_live_events.py streams it)
    ("GET", "/api/events"): rule("user", stream=True),
    ("PUT", "/api/me/presence"): rule("user", json=lambda w, s: {"status": "offline"}),
    ("POST", "/api/me/heartbeat"): rule("user"),
    ("GET", "/api/me/presence"): rule("user"),
    ("GET", "/api/contacts/{contact_id}"): rule("center", params=on("contact", "contact_id")),
    ("GET", "/api/templates"): rule("user"),
    ("GET", "/api/me/colleagues"): rule("user"),
    ("GET", "/api/tickets/{ticket_id}/attachments"): rule("center", params=TICKET),
    # a pending file: allowed users learn there is nothing to download yet (409), others get 403
    ("GET", "/api/attachments/{attachment_id}"): rule(
        "center", 409, params=on("attachment", "attachment_id")
    ),
    ("POST", "/api/tickets/{ticket_id}/claim"): rule("center", 200, 409, params=TICKET),
    ("POST", "/api/templates"): rule(
        "supervisor_center",
        201,
        json=lambda w, s: {"title": "折返し", "body": "{consumer_name}様", "center_id": w.id("center", s)},
    ),
    ("DELETE", "/api/templates/{template_id}"): rule(
        "supervisor_center", 204, params=on("template", "template_id")
    ),
    ("GET", "/api/wallboard"): rule("supervisor"),
    ("PUT", "/api/users/{user_id}/presence"): rule(
        "supervisor_center", params=on("user", "user_id"), json=lambda w, s: {"status": "offline"}
    ),
    ("GET", "/api/offers"): rule("user"),
    ("GET", "/api/staffing"): rule("user", 200, 422),
    ("GET", "/api/knowledge/search"): rule("user", query={"q": "解約"}),
    ("GET", "/api/knowledge/cooling-off"): rule("user", query={"sales_type": "訪問販売"}),
    ("GET", "/api/channels"): rule("supervisor"),
    ("GET", "/api/tickets/{ticket_id}"): rule("center", params=TICKET),
    ("PATCH", "/api/tickets/{ticket_id}"): rule(
        "center", params=TICKET, json=lambda w, s: {"summary": "概要"}
    ),
    ("POST", "/api/tickets/{ticket_id}/reply"): rule(
        "center", 202, 409, params=TICKET, json=lambda w, s: {"body": "ご相談ありがとうございます"}
    ),
    ("POST", "/api/tickets/{ticket_id}/notes"): rule("center", 201, params=TICKET, json=lambda w, s: note),
    ("GET", "/api/tickets/{ticket_id}/accident-reports"): rule("center", params=TICKET),
    ("POST", "/api/tickets/{ticket_id}/accident-reports"): rule("center", 201, params=TICKET),
    ("PATCH", "/api/accident-reports/{report_id}"): rule(
        "center", params=REPORT, json=lambda w, s: {"damage": "軽傷"}
    ),
    ("POST", "/api/accident-reports/{report_id}/notified"): rule(
        "center",
        200,
        400,
        params=REPORT,
        json=lambda w, s: {"method": "電話"},  # 400: draft incomplete
    ),
    ("GET", "/api/accident-checks"): rule("user"),
    ("GET", "/api/tickets/{ticket_id}/accident-checks"): rule("center", params=TICKET),
    ("POST", "/api/accident-checks/{check_id}/decision"): rule(
        "center",
        200,
        409,  # 409: an earlier identity of the same side decided it already
        params=on("check", "check_id"),
        json=lambda w, s: {"decision": "not_serious", "note": "全治1週間、後遺症なし"},
    ),
    ("GET", "/api/accident-reports/{report_id}/notification.pdf"): rule("center", params=REPORT),
    ("GET", "/api/accident-reports/{report_id}/notification.csv"): rule("center", params=REPORT),
    ("POST", "/api/tickets/{ticket_id}/transfer"): rule(
        "center", 200, 409, 422, params=TICKET, json=lambda w, s: {"reason": "専門", "to_supervisor": True}
    ),
    ("GET", "/api/tickets/{ticket_id}/similar"): rule("center", params=TICKET),
    ("GET", "/api/tickets/{ticket_id}/suggestions"): rule("center", params=TICKET),
    ("POST", "/api/tickets/{ticket_id}/suggestions/feedback"): rule(
        "center", 204, params=TICKET, json=lambda w, s: {"sales_method": "通信販売"}
    ),
    # the consultation record (crm/records_api.py, knowledge/record_fill_api.py)
    ("GET", "/api/tickets/{ticket_id}/record"): rule("center", params=TICKET),
    ("PATCH", "/api/tickets/{ticket_id}/record"): rule(
        "center", params=TICKET, json=lambda w, s: {"values": {"contract_amount": 120000}}
    ),
    ("POST", "/api/tickets/{ticket_id}/record/validate"): rule(
        "center", params=TICKET, json=lambda w, s: {"values": {"paid_amount": 5}}
    ),
    # 422: the empty draft misses required fields; 409: nothing submitted yet to approve or return
    ("POST", "/api/tickets/{ticket_id}/record/submit"): rule(
        "center", 422, params=TICKET, json=lambda w, s: {}
    ),
    ("POST", "/api/tickets/{ticket_id}/record/approve"): rule("supervisor_center", 409, params=TICKET),
    ("POST", "/api/tickets/{ticket_id}/record/return"): rule(
        "supervisor_center", 409, params=TICKET, json=lambda w, s: {"comments": {"outcome": "処理結果を"}}
    ),
    ("POST", "/api/tickets/{ticket_id}/record/reopen"): rule(
        "supervisor_center", 409, params=TICKET, json=lambda w, s: {"reason": "金額の補正"}
    ),
    ("GET", "/api/tickets/{ticket_id}/record/history"): rule("center", params=TICKET),
    ("GET", "/api/tickets/{ticket_id}/record/prefill"): rule("center", params=TICKET),
    ("POST", "/api/tickets/{ticket_id}/record/choices"): rule(
        "center",
        params=TICKET,
        json=lambda w, s: {
            "choices": [{"field": "sales_method", "choice": "accept", "suggested": "通信販売"}]
        },
    ),
    ("GET", "/api/records/queue"): rule("supervisor"),
    ("POST", "/api/records/approve"): rule(
        "supervisor", json=lambda w, s: {"ticket_ids": [w.id("ticket", s)]}
    ),
    ("GET", "/api/records/rules"): rule("user"),
    ("POST", "/api/offers/{offer_id}/accept"): rule("offeree", 200, 409, params=on("offer", "offer_id")),
    ("POST", "/api/offers/{offer_id}/decline"): rule("offeree", 200, 409, params=on("offer", "offer_id")),
    ("GET", "/api/queues"): rule("supervisor"),
    ("GET", "/api/exports/cases.csv"): rule(
        "supervisor", query={"date_from": "2020-01-01", "date_to": "2030-12-31"}
    ),
    ("GET", "/api/stats/counts"): rule(
        "supervisor", query={"date_from": "2026-01-01", "date_to": "2026-03-31"}
    ),
    ("GET", "/api/stats/spikes"): rule(
        "supervisor", query={"date_from": "2026-01-01", "date_to": "2026-03-31"}
    ),
    ("GET", "/api/stats/digest.html"): rule("supervisor"),
    ("GET", "/api/stats/digest.csv"): rule("supervisor"),
    ("GET", "/api/exports/anonymized.csv"): rule(
        "supervisor", query={"date_from": "2026-01-01", "date_to": "2026-03-31"}
    ),
    ("GET", "/api/exports/anonymized.parquet"): rule(
        "supervisor", query={"date_from": "2026-01-01", "date_to": "2026-03-31"}
    ),
    ("GET", "/api/exports/anonymized-columns.csv"): rule("supervisor"),
    ("POST", "/api/knowledge/documents"): rule(
        "supervisor_center",
        json=lambda w, s: [
            {"id": f"doc-{s}", "kind": "faq", "title": "解約", "body": "本文", "center_id": w.id("center", s)}
        ],
    ),
    ("DELETE", "/api/knowledge/documents/{doc_id}"): rule(
        "supervisor_center", 204, params=on("doc", "doc_id")
    ),
    ("GET", "/api/contacts/{contact_id}/disclosure"): rule(
        "supervisor_center", params=on("contact", "contact_id")
    ),
    ("POST", "/api/contacts/{contact_id}/erasure"): rule(
        "supervisor_center",
        200,
        201,
        202,
        204,
        409,
        422,
        params=on("contact", "contact_id"),
        json=lambda w, s: {"reason": "本人からの削除請求"},
    ),  # fmt: skip
    ("GET", "/api/centers/{center_id}"): rule("admin", params=CENTER_ID),
    ("POST", "/api/centers"): rule(
        "admin", 201, 422, json=lambda w, s: {"code": "NEW1", "name": "新センター", "prefecture": "東京都"}
    ),
    ("PATCH", "/api/centers/{center_id}"): rule(
        "admin", params=CENTER_ID, json=lambda w, s: {"name": "改名"}
    ),
    ("GET", "/api/users"): rule("admin"),
    ("GET", "/api/users/{user_id}"): rule("admin", params=on("user", "user_id")),
    ("POST", "/api/users"): rule(
        "admin",
        201,
        422,
        json=lambda w, s: {
            "username": "newbie",
            "password": "long-enough-pw",
            "role": "counselor",
            "center_id": w.id("center", s),
        },
    ),  # fmt: skip
    ("PATCH", "/api/users/{user_id}"): rule(
        "admin", params=on("user", "user_id"), json=lambda w, s: {"display_name": "改名"}
    ),
    ("GET", "/api/channels/{account_id}"): rule("supervisor_center", params=on("channel", "account_id")),
    ("POST", "/api/channels"): rule(
        "admin",
        201,
        409,
        422,
        json=lambda w, s: {"kind": "email", "center_id": w.id("center", s), "address": f"new-{s}@example.jp"},
    ),  # fmt: skip
    ("PATCH", "/api/channels/{account_id}"): rule(
        "admin", params=on("channel", "account_id"), json=lambda w, s: {"name": "改名"}
    ),
    ("POST", "/api/channels/{account_id}/inbound-token"): rule(
        "admin", 200, 201, 409, 422, params=on("channel", "account_id")
    ),
    ("DELETE", "/api/channels/{account_id}"): rule("admin", 204, params=on("channel", "account_id")),
}


def expected(r: Rule, who: str, side: str) -> frozenset[int]:
    """The statuses the matrix accepts for ``who`` calling the route on ``side``'s object."""
    if r.access in ("public", "signed"):
        return r.ok
    if who == ANON:
        return frozenset({401})
    allowed = {
        "user": True,
        "supervisor": who in (SA, ADMIN),
        "admin": who == ADMIN,
        "center": who == ADMIN or (who in (CA, SA) and side == "A") or (who == CB and side == "B"),
        "supervisor_center": who == ADMIN or (who == SA and side == "A"),
        "offeree": (who == CA and side == "A") or (who == CB and side == "B"),
    }[r.access]
    return r.ok if allowed else frozenset({r.denied})


def app_operations(app: Any) -> list[tuple[str, str]]:
    ops = []
    for route in iter_route_contexts(app.routes):
        for method in sorted((route.methods or set()) - {"HEAD"}):
            ops.append((method, route.path))
    return ops


@pytest.fixture(scope="module")
def matrix_client(migrated: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    # its own data dir: the replies it sends must not land in the other tests' sandbox outbox
    settings = migrated.model_copy(update={"data_dir": tmp_path_factory.mktemp("matrix")})
    with TestClient(create_app(settings, run_jobs=False)) as c:
        yield c


def build_world(client: TestClient) -> World:
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    _reset_database(rt)
    if rt.redis is not None:
        rt.redis.flushdb()
    client.cookies.clear()
    with Session(rt.engine, expire_on_commit=False) as db:
        a, b = make_center(db, "TKY"), make_center(db, "OSK", prefecture="大阪府")
        people = {
            CA: make_user(db, a, "ca"),
            CB: make_user(db, b, "cb"),
            SA: make_user(db, a, "sa", role=Role.SUPERVISOR),
            ADMIN: make_user(db, None, "root", role=Role.ADMIN),
        }
        sb = make_user(db, b, "sb", role=Role.SUPERVISOR)
        world = World(headers={ANON: {}})
        for who, user in people.items():
            token = create_access_token(user_id=user.id, secret_key=rt.settings.secret_key, minutes=10)  # type: ignore[arg-type]
            world.headers[who] = {"Authorization": f"Bearer {token}"}
        tickets = {
            "A": db.get(Ticket, receive(db, a, "定期購入の解約ができません", sender="UA").ticket_id),
            "B": db.get(Ticket, receive(db, b, "屋根の点検商法", sender="UB").ticket_id),
        }
        for side, who in (("A", CA), ("B", CB)):  # each counselor handles their center's ticket
            tickets[side].assignee_id, tickets[side].status = people[who].id, TicketStatus.ASSIGNED  # type: ignore[union-attr]
        db.commit()
        world.ids["center"] = {"A": a.id, "B": b.id}
        world.ids["ticket"] = {s: t.id for s, t in tickets.items()}  # type: ignore[union-attr]
        world.ids["contact"] = {s: t.contact_id for s, t in tickets.items()}  # type: ignore[union-attr]
        world.ids["user"] = {"A": people[CA].id, "B": people[CB].id}
        world.ids["report"] = {
            "A": accidents.draft_report(db, ticket=tickets["A"], author=people[SA]).id,  # type: ignore[arg-type]
            "B": accidents.draft_report(db, ticket=tickets["B"], author=sb).id,  # type: ignore[arg-type]
        }
        checks = {
            s: AccidentCheck(ticket_id=t.id, center_id=t.center_id, reasons=["要確認"])
            for s, t in tickets.items()
        }  # type: ignore[union-attr]
        db.add_all(checks.values())
        db.flush()
        world.ids["check"] = {s: c.id for s, c in checks.items()}
        docs = [
            knowledge.DocumentIn(f"doc-{s}", "faq", "解約", "本文", center_id=world.id("center", s))
            for s in SIDES
        ]
        knowledge.upsert_documents(db, docs)
        world.ids["doc"] = {s: f"doc-{s}" for s in SIDES}
        world.ids["offer"] = _offers(db, tickets, {"A": people[CA].id, "B": people[CB].id})
        world.ids["channel"] = _channels(db, rt, world)
        world.ids["template"] = _templates(db, world)
        world.ids["attachment"] = _attachments(db, world)
        db.commit()
    return world


def _attachments(db: Session, world: World) -> dict[str, int]:
    out = {}
    for side in SIDES:
        message = db.exec(select(Message).where(Message.ticket_id == world.id("ticket", side))).first()
        row = Attachment(
            message_id=message.id, filename="photo.jpg", content_type="image/jpeg", status="pending"
        )  # type: ignore[union-attr]
        db.add(row)
        db.flush()
        out[side] = row.id
    return out  # type: ignore[return-value]


def _templates(db: Session, world: World) -> dict[str, int]:
    rows = {
        s: CannedResponse(center_id=world.id("center", s), title="挨拶", body="こんにちは") for s in SIDES
    }
    db.add_all(rows.values())
    db.flush()
    return {s: r.id for s, r in rows.items()}  # type: ignore[misc]


def _offers(db: Session, tickets: dict[str, Any], to: dict[str, Any]) -> dict[str, int]:
    from routing.models import Offer

    out = {}
    for side, ticket in tickets.items():
        offer = Offer(
            ticket_id=ticket.id,
            active_ticket_id=ticket.id,
            user_id=to[side],
            center_id=ticket.center_id,
            channel=ticket.channel,
            expires_at=utcnow() + timedelta(hours=1),
        )
        db.add(offer)
        db.flush()
        out[side] = offer.id
    db.commit()
    return out


def _channels(db: Session, rt: Runtime, world: World) -> dict[str, int]:
    from crm import channel_accounts

    out, world.ids["channel_public"] = {}, {}
    for side in SIDES:
        info, _token = channel_accounts.create_account(
            db, kind="email", center_id=world.id("center", side), name=None,
            address=f"soudan-{side}@example.jp", keys=rt.settings.encryption_keys,
        )  # fmt: skip
        out[side] = info.id
        world.ids["channel_public"][side] = info.public_id
    db.commit()
    return out


def call(client: TestClient, world: World, method: str, path: str, r: Rule, who: str, side: str) -> int:
    url = path.format(**r.params(world, side)) if r.params else path
    res = client.request(
        method,
        url,
        headers=world.headers[who],
        params=r.query,
        json=r.json(world, side) if r.json else None,
        data=r.data,
    )
    client.cookies.clear()
    return res.status_code


def test_every_route_declares_its_access_rule(matrix_client: TestClient) -> None:
    missing = [f"{m} {p}" for m, p in app_operations(matrix_client.app) if (m, p) not in RULES]
    assert not missing, "routes without an access rule in tests/api/test_access_matrix.py: " + ", ".join(
        missing
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "operation" in metafunc.fixturenames:
        ops = sorted(RULES)
        metafunc.parametrize("operation", ops, ids=[f"{m} {p}" for m, p in ops])


def test_access_matrix(matrix_client: TestClient, operation: tuple[str, str]) -> None:
    method, path = operation
    if operation not in app_operations(matrix_client.app):
        pytest.skip(f"{method} {path} is not mounted in this build")
    r = RULES[operation]
    sides = SIDES if r.params or r.json else ("A",)
    world = build_world(matrix_client)
    wrong = []
    combos = [(who, side) for who in IDENTITIES for side in sides]
    # refused calls first (they must change nothing); an allowed unsafe call gets a fresh world
    combos.sort(key=lambda c: expected(r, *c) == r.ok)
    for who, side in combos:
        want = expected(r, who, side)
        if r.stream and want == r.ok:
            continue
        if want == r.ok and method not in SAFE:
            world = build_world(matrix_client)
        got = call(matrix_client, world, method, path, r, who, side)
        if got not in want:
            wrong.append(f"{who} on center {side}'s object: {got}, expected {sorted(want)}")
    assert not wrong, f"{method} {path}: " + "; ".join(wrong)
