"""Append-only audit trail of reads and changes."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from crm.models import AuditLog


def write_audit(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: int | str,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditLog(
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            detail=detail or {},
        )
    )
