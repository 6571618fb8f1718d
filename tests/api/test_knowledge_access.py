"""Knowledge documents belong to a center: another center's supervisor can neither overwrite nor delete
them (case records included), shared documents are an admin's, and every write is audited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from config.runtime import Runtime
from crm.models import AuditLog, Role
from knowledge.models import KnowledgeDocument
from knowledge.service import case_doc_id, index_resolved_ticket
from tests.api.conftest import login
from tests.factories import make_center, make_user, receive


def _doc(center_id: int | None, **kw: object) -> dict:
    return {"id": "faq-teiki", "kind": "faq", "title": "定期購入の解約", "body": "解約の条件を確認する。",
            "center_id": center_id, **kw}  # fmt: skip


def test_supervisor_writes_only_their_centers_documents(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    tokyo, osaka = make_center(db, "TKY"), make_center(db, "OSK")
    boss = make_user(db, tokyo, "boss", role=Role.SUPERVISOR)
    make_user(db, osaka, "oboss", role=Role.SUPERVISOR)
    make_user(db, None, "root", role=Role.ADMIN)
    tokyo_id, osaka_id = tokyo.id, osaka.id
    ticket_id = receive(db, tokyo, "山田花子です。定期購入の解約ができない", sender="U1").ticket_id
    index_resolved_ticket(db, ticket_id)
    db.commit()
    tb, ob, admin = login(client, "boss"), login(client, "oboss"), login(client, "root")
    client.cookies.clear()
    post = lambda doc, who: client.post("/api/knowledge/documents", json=[doc], headers=who)  # noqa: E731

    assert post(_doc(tokyo_id), tb).status_code == 200
    res = post(_doc(osaka_id, body="上書き"), ob)  # taking over Tokyo's document under Osaka's name
    assert res.status_code == 403 and "another center" in res.json()["detail"]
    assert client.delete("/api/knowledge/documents/faq-teiki", headers=ob).status_code == 403
    case = case_doc_id(ticket_id)
    assert post(_doc(osaka_id, id=case, kind="case", body="偽の事例"), ob).status_code == 403
    assert client.delete(f"/api/knowledge/documents/{case}", headers=ob).status_code == 403
    res = post(_doc(tokyo_id, id=case, kind="case", body="書き換え"), tb)  # the indexer's record
    assert res.status_code == 409 and "ticket" in res.json()["detail"]
    res = post(_doc(None, id="law-1", kind="law"), tb)
    assert res.status_code == 403 and "admin" in res.json()["detail"]
    assert post(_doc(None, id="law-1", kind="law"), admin).status_code == 200
    assert client.delete("/api/knowledge/documents/law-1", headers=tb).status_code == 403

    db.expire_all()
    assert db.get(KnowledgeDocument, "faq-teiki").body == "解約の条件を確認する。"  # type: ignore[union-attr]
    assert "山田花子" not in db.get(KnowledgeDocument, case).body  # type: ignore[union-attr]
    db.commit()
    assert client.delete("/api/knowledge/documents/faq-teiki", headers=tb).status_code == 204
    writes = db.exec(select(AuditLog).where(AuditLog.object_type == "knowledge_document")).all()
    assert [(a.action, a.object_id, a.actor_id) for a in writes] == [
        ("knowledge.upsert", "faq-teiki", boss.id),
        ("knowledge.upsert", "law-1", writes[1].actor_id),
        ("knowledge.delete", "faq-teiki", boss.id),
    ]
    assert writes[0].detail["center_id"] == tokyo_id and writes[0].ip == "testclient"
