"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from config.wiring import Runtime
from crm.schema import load_models, migrate


def test_migrations_match_the_models(runtime: Runtime) -> None:
    migrate(runtime.engine)  # idempotent
    with runtime.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = [d for d in compare_metadata(ctx, load_models().metadata) if not _is_search_ddl(d)]
    assert diff == [], f"models and migrations differ; regenerate the migration: {diff}"


def test_core_tables_exist(runtime: Runtime) -> None:
    tables = set(inspect(runtime.engine).get_table_names())
    assert {
        "ticket",
        "message",
        "contact",
        "contactidentity",
        "outboxitem",
        "auditlog",
        "center",
        "user",
    } <= tables


def _is_search_ddl(d: object) -> bool:
    # Tables created by raw DDL in later migrations (FTS5 shadow tables etc.) are not in the metadata.
    return isinstance(d, tuple) and d[0] == "remove_table" and not d[1].name.startswith(("ticket", "message"))
