"""Create or upgrade the database schema with Alembic (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

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


# Tables created by raw DDL in later migrations (search index, FTS5 shadow tables) are not ORM models.
RAW_DDL_PREFIXES = ("knowledge_search", "knowledge_fts")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic filter: leave raw-DDL tables and their indexes out of autogenerate comparisons."""
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    return not (reflected and compare_to is None and (table or "").startswith(RAW_DDL_PREFIXES))


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
