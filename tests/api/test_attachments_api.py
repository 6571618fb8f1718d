"""Consumers' files reach the counselor as downloads that cannot run in the console's origin."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from config.runtime import Runtime
from crm.models import Attachment, Message
from tests.api.conftest import login
from tests.factories import make_center, make_user, receive


def _attach(
    db: Session, ticket_id: int, name: str, ctype: str, storage: str | None, status: str = "stored"
) -> int:
    message = db.exec(select(Message).where(Message.ticket_id == ticket_id)).first()
    row = Attachment(
        message_id=message.id, filename=name, content_type=ctype, status=status, storage_path=storage
    )  # type: ignore[union-attr]
    db.add(row)
    db.commit()
    return row.id  # type: ignore[return-value]


def test_attachments_download_safely(client: TestClient, db: Session, app_runtime: Runtime) -> None:
    tokyo, osaka = make_center(db, "TKY"), make_center(db, "OSK")
    make_user(db, tokyo, "sato")
    make_user(db, osaka, "kato")
    ticket_id = receive(db, tokyo, "写真を送ります", sender="U-att").ticket_id
    data_dir = Path(app_runtime.settings.data_dir)
    (data_dir / "att").mkdir(parents=True, exist_ok=True)
    (data_dir / "att" / "page.html").write_text("<script>alert(1)</script>", encoding="utf-8")
    (data_dir / "att" / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    html = _attach(db, ticket_id, "請求書<img>.html", "text/html", "att/page.html")
    png = _attach(db, ticket_id, "photo.png", "image/png", "att/photo.png")
    pending = _attach(db, ticket_id, "big.pdf", "application/pdf", None, status="pending")
    escape = _attach(db, ticket_id, "passwd", "text/plain", "../../../../etc/passwd")
    h = login(client, "sato")
    listed = client.get(f"/api/tickets/{ticket_id}/attachments", headers=h).json()
    assert [(a["filename"], a["status"]) for a in listed] == [
        ("請求書<img>.html", "stored"), ("photo.png", "stored"), ("big.pdf", "pending"), ("passwd", "stored"),
    ]  # fmt: skip
    res = client.get(f"/api/attachments/{html}", headers=h)
    assert res.status_code == 200 and res.content == b"<script>alert(1)</script>"
    assert res.headers["content-type"] == "application/octet-stream"  # HTML is never served as HTML
    assert (
        res.headers["content-disposition"].startswith("attachment;")
        and "%3Cimg%3E" in res.headers["content-disposition"]
    )
    assert (
        res.headers["x-content-type-options"] == "nosniff"
        and "sandbox" in res.headers["content-security-policy"]
    )
    assert client.get(f"/api/attachments/{png}", headers=h).headers["content-type"] == "image/png"
    waiting = client.get(f"/api/attachments/{pending}", headers=h)
    assert waiting.status_code == 409 and "pending" in waiting.json()["detail"]
    assert (
        client.get(f"/api/attachments/{escape}", headers=h).status_code == 404
    )  # outside the data directory
    other = login(client, "kato")
    assert client.get(f"/api/attachments/{html}", headers=other).status_code == 403
    assert client.get(f"/api/tickets/{ticket_id}/attachments", headers=other).status_code == 403
    assert client.get("/api/attachments/999999", headers=h).status_code == 404
