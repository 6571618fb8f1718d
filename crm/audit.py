"""Append-only audit trail of reads and changes: who, when, what, and from where.

"From where" (client IP, user agent, request id) comes from the request being served:
crm/http_security.py sets :data:`request_context` for each HTTP request, and :func:`write_audit`
reads it, so services need not pass the request down. Jobs and the CLI write rows without it.

The log is append-only for the application: :func:`guard_append_only` makes the ORM refuse to
update or delete an :class:`AuditLog` row, and on PostgreSQL :data:`POSTGRES_APPEND_ONLY_DDL` adds
a trigger refusing UPDATE and DELETE for any client.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from crm.models import AuditLog


@dataclass(frozen=True)
class RequestInfo:
    """Where the current request comes from (stored on every audit row it writes)."""

    ip: str | None
    user_agent: str | None
    request_id: str | None


request_context: ContextVar[RequestInfo | None] = ContextVar("madoguchi_request_context", default=None)

# A trigger that refuses UPDATE and DELETE on auditlog (TRUNCATE stays possible for test resets and
# an operator's deliberate purge). For the migration: op.execute(POSTGRES_APPEND_ONLY_DDL).
POSTGRES_APPEND_ONLY_DDL = """
CREATE OR REPLACE FUNCTION auditlog_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'auditlog is append-only: ' || TG_OP || ' refused';
END
$$;
DROP TRIGGER IF EXISTS auditlog_append_only ON auditlog;
CREATE TRIGGER auditlog_append_only BEFORE UPDATE OR DELETE ON auditlog
    FOR EACH ROW EXECUTE FUNCTION auditlog_append_only();
"""


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete an audit row."""


def write_audit(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: int | str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit row to the caller's transaction (the caller commits)."""
    where = request_context.get()
    session.add(
        AuditLog(
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id)[:64],
            detail=detail or {},
            ip=where.ip if where else None,
            user_agent=where.user_agent if where else None,
            request_id=where.request_id if where else None,
        )
    )


def audit_read(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: int | str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record a read of case content and commit it (reads have no transaction of their own to join)."""
    write_audit(
        session, actor_id=actor_id, action=action, object_type=object_type, object_id=object_id, detail=detail
    )
    session.commit()


def _refuse_changes(session: OrmSession, _flush_context: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditLog) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly(
                f"audit row {obj.id} cannot be changed or deleted: the audit log is append-only"
            )


def guard_append_only() -> None:
    """Make every ORM session refuse to flush a changed or deleted audit row (idempotent)."""
    if not event.contains(OrmSession, "before_flush", _refuse_changes):
        event.listen(OrmSession, "before_flush", _refuse_changes)


guard_append_only()
