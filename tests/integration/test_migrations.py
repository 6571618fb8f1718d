"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from config.runtime import Runtime
from crm.schema import include_object, load_models, migrate


def test_migrations_match_the_models(runtime: Runtime) -> None:
    migrate(runtime.engine)  # idempotent
    with runtime.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False, "include_object": include_object})
        diff = compare_metadata(ctx, load_models().metadata)
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
