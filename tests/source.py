"""Reading our own source in tests (the import graph, the clock-usage check)."""

from __future__ import annotations

import ast
from pathlib import Path


def parse_python(path: Path) -> ast.Module:
    """``ast.parse``, retried: CPython 3.11 can raise a spurious "AST constructor recursion depth
    mismatch" SystemError while other threads of the process run (python/cpython#106905); a real
    syntax error is raised as usual."""
    source = path.read_text(encoding="utf-8")
    for _attempt in range(5):
        try:
            return ast.parse(source, filename=str(path))
        except SystemError:
            continue
    return ast.parse(source, filename=str(path))
