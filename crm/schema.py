"""Create or upgrade the database schema with Alembic (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MODEL_MODULES = ("crm.models", "routing.models", "knowledge.models")


def load_models() -> type[SQLModel]:
    """Import every package's tables so that ``SQLModel.metadata`` knows them all."""
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return SQLModel


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` (idempotent)."""
    load_models()
    command.upgrade(alembic_config(engine), revision)
