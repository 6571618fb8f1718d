"""What leaves the center for partner agencies: the weekly digest and the anonymized records.

Each call is written to the audit log (who exported what period, how many rows).
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from crm.audit import write_audit
from crm.models import Center, User
from knowledge.trends.anonymized import anonymized_rows, rows_csv, rows_parquet
from knowledge.trends.digest import digest_csv, digest_html, weekly_digest
from knowledge.trends.records import load_records
from knowledge.trends.service import Scope


def export_anonymized(
    session: Session, *, scope: Scope, actor: User, fmt: str
) -> tuple[bytes | str, int, int]:
    """(body, rows, rows left out) of the k-anonymous export as ``fmt`` ("csv" or "parquet")."""
    records = load_records(
        session, date_from=scope.date_from, date_to=scope.date_to, center_ids=scope.center_ids
    )
    rows, left_out = anonymized_rows(records)
    body: bytes | str = rows_parquet(rows, left_out=left_out) if fmt == "parquet" else rows_csv(rows)
    _audit(session, actor, f"anonymized.{fmt}", scope, rows=len(rows), left_out=left_out)
    return body, len(rows), left_out


def export_digest(session: Session, *, scope: Scope, actor: User | None, week: date, fmt: str) -> str:
    """The weekly digest of ``week`` as ``fmt`` ("html" or "csv"); ``actor`` None: the CLI."""
    digest = weekly_digest(session, scope, week=week)
    _audit(session, actor, f"digest.{fmt}", scope, week=digest["week"])
    if fmt == "csv":
        return digest_csv(digest)
    return digest_html(digest, center_label=_center_label(session, scope))


def _center_label(session: Session, scope: Scope) -> str:
    if scope.center_ids is None:
        return "全センター (all centers)"
    names = [c.name for i in sorted(scope.center_ids) if (c := session.get(Center, i)) is not None]
    return "、".join(names) or "—"


def _audit(session: Session, actor: User | None, what: str, scope: Scope, **detail: object) -> None:
    write_audit(
        session,
        actor_id=actor.id if actor else None,
        action="trends.export",
        object_type="export",
        object_id=what,
        detail={"from": scope.date_from.isoformat(), "to": scope.date_to.isoformat(), **detail},
    )
    session.commit()
