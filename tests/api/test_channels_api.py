"""/api/channels: admins manage channel accounts, supervisors read their center's, secrets never leave."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from crm.models import AuditLog, ChannelAccount, Role
from tests.api.conftest import login
from tests.factories import make_center, make_user

LINE_SECRET = "0123456789abcdef0123456789abcdef"
LINE_TOKEN = "very-secret-line-access-token"


@pytest.fixture
def people(client: TestClient, db: Session) -> dict[str, object]:
    a, b = make_center(db, "CA"), make_center(db, "CB")
    make_user(db, None, "root", role=Role.ADMIN)
    make_user(db, a, "sv-a", role=Role.SUPERVISOR)
    make_user(db, a, "counselor-a")
    ids = {"a": a.id, "b": b.id}
    db.commit()
    return {
        "centers": ids,
        "admin": login(client, "root"),
        "sv": login(client, "sv-a"),
        "counselor": login(client, "counselor-a"),
    }


def _line(center_id: int, **extra: object) -> dict[str, object]:
    return {
        "kind": "line",
        "center_id": center_id,
        "secrets": {"channel_secret": LINE_SECRET, "access_token": LINE_TOKEN},
        **extra,
    }


def test_admin_creates_lists_updates_and_deletes(client: TestClient, people: dict, db: Session) -> None:
    admin, centers = people["admin"], people["centers"]
    res = client.post("/api/channels", json=_line(centers["a"]), headers=admin)
    assert res.status_code == 201, res.text
    created = res.json()
    assert created["webhook_path"] == f"/channels/line/{created['public_id']}/webhook"
    assert created["url"].endswith(created["webhook_path"]) and created["inbound_token"] is None
    assert created["has_secrets"] is True and created["secrets_set"] == ["access_token", "channel_secret"]
    email = client.post(
        "/api/channels",
        json={
            "kind": "email",
            "center_id": centers["b"],
            "address": "soudan@b.example.jp",
            "settings": {"imap_host": "imap.b.example.jp", "imap_port": 993},
        },
        headers=admin,
    ).json()
    assert email["inbound_token"] and email["inbound_path"] == f"/channels/email/{email['public_id']}/inbound"
    listed = client.get("/api/channels", headers=admin).json()
    assert [c["id"] for c in listed] == [created["id"], email["id"]]
    assert all("inbound_token" not in c for c in listed)
    assert [c["id"] for c in client.get("/api/channels?kind=email", headers=admin).json()] == [email["id"]]
    patched = client.patch(
        f"/api/channels/{created['id']}", json={"name": "A の LINE", "enabled": False}, headers=admin
    )
    assert (
        patched.status_code == 200 and patched.json()["name"] == "A の LINE" and not patched.json()["enabled"]
    )
    token = client.post(f"/api/channels/{email['id']}/inbound-token", headers=admin).json()["inbound_token"]
    assert token and token != email["inbound_token"]
    assert client.delete(f"/api/channels/{created['id']}", headers=admin).status_code == 204
    assert client.get(f"/api/channels/{created['id']}", headers=admin).status_code == 404
    db.expire_all()
    actions = [r.action for r in db.exec(select(AuditLog).where(AuditLog.object_type == "channel_account"))]
    assert actions == [
        "channel.create",
        "channel.create",
        "channel.update",
        "channel.rotate_token",
        "channel.delete",
    ]
    db.commit()


def test_access_by_role(client: TestClient, people: dict) -> None:
    admin, centers = people["admin"], people["centers"]
    own = client.post("/api/channels", json=_line(centers["a"]), headers=admin).json()
    other = client.post("/api/channels", json=_line(centers["b"]), headers=admin).json()
    client.cookies.clear()  # logging in set the console's session cookie
    assert client.get("/api/channels").status_code == 401
    assert client.post("/api/channels", json=_line(centers["a"])).status_code == 401
    counselor = people["counselor"]
    assert client.get("/api/channels", headers=counselor).status_code == 403
    assert client.get(f"/api/channels/{own['id']}", headers=counselor).status_code == 403
    sv = people["sv"]
    assert [c["id"] for c in client.get("/api/channels", headers=sv).json()] == [own["id"]]
    assert client.get(f"/api/channels/{own['id']}", headers=sv).status_code == 200
    assert client.get(f"/api/channels/{other['id']}", headers=sv).status_code == 403
    assert client.get(f"/api/channels?center_id={centers['b']}", headers=sv).status_code == 403
    assert (
        client.post("/api/channels", json=_line(centers["a"], address="1650000009"), headers=sv).status_code
        == 403
    )
    assert client.patch(f"/api/channels/{own['id']}", json={"enabled": False}, headers=sv).status_code == 403
    assert client.delete(f"/api/channels/{own['id']}", headers=sv).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "email", "address": "not-an-address"}, "address"),
        ({"kind": "voice", "address": "03-1234-5678"}, "address"),
        ({"kind": "voice", "address": "+81 3 1234 5678"}, "address"),
        ({"kind": "line", "address": "U123"}, "address"),
        ({"kind": "fax", "address": "x"}, "kind"),
        ({"kind": "email", "address": "a@example.jp", "colour": "red"}, "colour"),
        ({"kind": "email", "address": "a@example.jp", "settings": {"imap_port": "x"}}, "settings.imap_port"),
        (
            {"kind": "email", "address": "a@example.jp", "secrets": {"inbound_token": "mine"}},
            "secrets.inbound_token",
        ),
        ({"kind": "line", "secrets": {"channel_secret": "s"}}, "secrets.access_token"),
        ({"kind": "email", "address": "a@example.jp", "center_id": 999999}, "center"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    client: TestClient, people: dict, db: Session, body: dict, field: str
) -> None:
    body = {"center_id": people["centers"]["a"], **body}
    res = client.post("/api/channels", json=body, headers=people["admin"])
    assert res.status_code == 422, res.text
    detail = res.json()["detail"].removeprefix("invalid request: ")
    assert detail.startswith(f"{field}: "), detail
    db.expire_all()
    assert db.exec(select(ChannelAccount)).all() == []
    db.commit()


def test_duplicate_address_409_and_unknown_patch_field_422(client: TestClient, people: dict) -> None:
    admin, a = people["admin"], people["centers"]["a"]
    first = client.post("/api/channels", json=_line(a, address="1650000001"), headers=admin)
    assert first.status_code == 201
    assert client.post("/api/channels", json=_line(a, address="1650000001"), headers=admin).status_code == 409
    res = client.patch(f"/api/channels/{first.json()['id']}", json={"kind": "email"}, headers=admin)
    assert res.status_code == 422 and "kind" in res.json()["detail"]
    res = client.patch(f"/api/channels/{first.json()['id']}", json={"address": "nope"}, headers=admin)
    assert res.status_code == 422 and res.json()["detail"].startswith("address:")


def test_secrets_never_in_responses_or_logs(
    client: TestClient, people: dict, caplog: pytest.LogCaptureFixture
) -> None:
    admin, a = people["admin"], people["centers"]["a"]
    bodies = []
    with caplog.at_level(logging.DEBUG):
        created = client.post("/api/channels", json=_line(a), headers=admin)
        bodies.append(created.text)
        cid = created.json()["id"]
        bodies.append(
            client.patch(
                f"/api/channels/{cid}", json={"secrets": {"access_token": LINE_TOKEN + "2"}}, headers=admin
            ).text
        )
        bodies.append(client.get("/api/channels", headers=admin).text)
        bodies.append(client.get(f"/api/channels/{cid}", headers=admin).text)
        bodies.append(client.get("/api/channels", headers=people["sv"]).text)
        bad = client.post("/api/channels", json=_line(a, address="nope"), headers=admin)
        bodies.append(bad.text)
    everything = "\n".join(bodies) + caplog.text
    for secret in (LINE_SECRET, LINE_TOKEN, LINE_TOKEN + "2"):
        assert secret not in everything


def test_unreadable_secrets_show_as_broken_and_others_keep_working(
    client: TestClient, people: dict, db: Session
) -> None:
    from cryptography.fernet import Fernet

    from crm.crypto import encrypt_secrets

    admin, centers = people["admin"], people["centers"]
    lost = client.post("/api/channels", json=_line(centers["a"]), headers=admin).json()
    fine = client.post("/api/channels", json=_line(centers["b"]), headers=admin).json()
    row = db.get(ChannelAccount, lost["id"])
    assert row is not None
    row.secrets_encrypted = encrypt_secrets(
        [Fernet.generate_key().decode()], {"channel_secret": "x"}
    )  # a lost key
    db.add(row)
    db.commit()
    listed = {c["id"]: c for c in client.get("/api/channels", headers=admin).json()}
    assert "MADOGUCHI_ENCRYPTION_KEYS" in listed[lost["id"]]["broken_reason"]
    assert listed[lost["id"]]["has_secrets"] is True and listed[lost["id"]]["secrets_set"] == []
    assert listed[fine["id"]]["broken_reason"] is None and listed[fine["id"]]["secrets_set"]
    repaired = client.patch(
        f"/api/channels/{lost['id']}",
        json={"secrets": {"channel_secret": LINE_SECRET, "access_token": LINE_TOKEN}},
        headers=admin,
    )
    assert repaired.status_code == 200 and repaired.json()["broken_reason"] is None
