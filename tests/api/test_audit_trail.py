"""Every read of case content and every change leaves an audit row saying who, when, what and from
where; the log is append-only for the application (and, on PostgreSQL, for any client)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from config.runtime import Runtime
from crm.audit import POSTGRES_APPEND_ONLY_DDL, AuditLogIsAppendOnly, write_audit
from crm.models import AuditLog
from tests.api.conftest import login
from tests.factories import make_center, make_user, receive

ROOT = Path(__file__).resolve().parents[2]


def test_case_reads_and_changes_are_audited_with_where_from(client: TestClient, db: Session) -> None:
    center = make_center(db, "TKY")
    sato = make_user(db, center, "sato")
    ticket_id = receive(db, center, "定期購入の解約ができません", sender="U1").ticket_id
    auth = {**login(client, "sato"), "User-Agent": "pytest-console/1.0"}
    calls = [
        ("GET", "/api/tickets", "ticket.list"),
        ("GET", f"/api/tickets/{ticket_id}/accident-reports", "accident_report.list"),
        ("GET", f"/api/tickets/{ticket_id}/similar", "ticket.similar"),
        ("GET", f"/api/tickets/{ticket_id}/suggestions", "ticket.suggestions"),
        ("GET", "/api/knowledge/search?q=解約", "knowledge.search"),
        ("POST", f"/api/tickets/{ticket_id}/notes", "ticket.note"),
    ]
    for method, path, action in calls:
        body = {"body": "内部メモ"} if method == "POST" else None
        res = client.request(method, path, headers={**auth, "X-Request-ID": f"req-{action}"}, json=body)
        assert res.status_code in (200, 201), (path, res.text)
        row = db.exec(select(AuditLog).where(AuditLog.action == action)).one_or_none()
        db.commit()
        assert row is not None, f"{method} {path} left no audit row"
        assert row.actor_id == sato.id and row.at is not None
        assert (row.ip, row.user_agent, row.request_id) == (
            "testclient",
            "pytest-console/1.0",
            f"req-{action}",
        )
    listed = db.exec(select(AuditLog).where(AuditLog.action == "ticket.list")).one()
    assert listed.detail["ticket_ids"] == [ticket_id]


def test_the_application_cannot_change_or_delete_audit_rows(app_runtime: Runtime, db: Session) -> None:
    write_audit(db, actor_id=None, action="test.event", object_type="test", object_id=1)
    db.commit()
    row = db.exec(select(AuditLog)).one()
    row.action = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        db.commit()
    db.rollback()
    db.delete(db.exec(select(AuditLog)).one())
    with pytest.raises(AuditLogIsAppendOnly):
        db.commit()
    db.rollback()
    assert db.exec(select(AuditLog.action)).all() == ["test.event"]


AUDIT_MUTATION = [
    re.compile(r"\b(update|delete)\(\s*AuditLog\b"),
    re.compile(r"(?i)\b(update|delete\s+from)\s+\"?auditlog\b"),
    re.compile(r"AuditLog\.__table__\.(update|delete)\b"),
    re.compile(r"\bquery\(\s*AuditLog\s*\)[^\n]*\.(update|delete)\("),
]


def test_no_code_path_updates_or_deletes_audit_rows() -> None:
    sources = [ROOT / "app.py", ROOT / "madoguchi_cli.py"]
    for package in ("crm", "knowledge", "routing", "channels", "config", "bench"):
        sources += (ROOT / package).rglob("*.py")
    offenders = []
    for path in sources:
        if "migrations" in path.parts or not path.exists() or path.name == "audit.py":
            continue
        code = path.read_text(encoding="utf-8")
        offenders += [
            f"{path.relative_to(ROOT)}: {m.group(0)}" for p in AUDIT_MUTATION for m in p.finditer(code)
        ]
    assert not offenders, "the audit log is append-only: " + "; ".join(offenders)


def test_postgres_trigger_refuses_update_and_delete(app_runtime: Runtime) -> None:
    engine = app_runtime.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("the trigger is PostgreSQL DDL; SQLite relies on the ORM guard")
    with engine.connect() as conn:
        tx = conn.begin()  # PostgreSQL DDL is transactional: everything here is rolled back
        try:
            conn.exec_driver_sql(POSTGRES_APPEND_ONLY_DDL)
            conn.execute(
                text(
                    "INSERT INTO auditlog (at, action, object_type, object_id, detail) "
                    "VALUES (now(), 'test.event', 'test', '1', '{}')"
                )
            )
            for statement in ("UPDATE auditlog SET action = 'rewritten'", "DELETE FROM auditlog"):
                savepoint = conn.begin_nested()
                with pytest.raises(DBAPIError, match="append-only"):
                    conn.execute(text(statement))
                savepoint.rollback()
            assert conn.execute(text("SELECT action FROM auditlog")).scalars().all() == ["test.event"]
        finally:
            tx.rollback()
