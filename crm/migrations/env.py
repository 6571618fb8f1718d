"""Alembic environment: runs against the engine handed over by crm.schema.migrate (or the URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from crm.schema import include_object, load_models

config = context.config
target_metadata = load_models().metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = engine_from_config(
            config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.", poolclass=pool.NullPool
        )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
