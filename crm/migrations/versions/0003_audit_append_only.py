"""audit log append-only on PostgreSQL: a trigger refuses UPDATE and DELETE of auditlog rows

Revision ID: 0003_audit_append_only
Revises: 0002_search

SQLite has no equivalent for every client; there the ORM guard in crm/audit.py refuses it.
"""

from collections.abc import Sequence

from alembic import op

from crm.audit import POSTGRES_APPEND_ONLY_DDL

revision: str = "0003_audit_append_only"
down_revision: str | None = "0002_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_APPEND_ONLY_DDL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS auditlog_append_only ON auditlog")
        op.execute("DROP FUNCTION IF EXISTS auditlog_append_only()")
