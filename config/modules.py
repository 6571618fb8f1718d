"""Optional packages: a package that is not installed is skipped, any other import error is raised."""

from __future__ import annotations

import importlib
from types import ModuleType


def import_optional(module_name: str) -> ModuleType | None:
    """The module, or None when it (or a parent package) does not exist."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            return None
        raise
