"""Regenerate the initial migration from the models (development only, before the first release).

    .venv/bin/python -m crm.migrations.regenerate

Later migrations (0002_search, raw DDL) are set aside while 0001 is rebuilt on an empty database.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from alembic import command

from crm.db import make_engine
from crm.schema import alembic_config

VERSIONS = Path(__file__).parent / "versions"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        later = [p for p in VERSIONS.glob("*.py") if not p.name.startswith("0001")]
        for p in later:
            shutil.move(p, Path(tmp) / p.name)
        for p in VERSIONS.glob("0001*.py"):
            p.unlink()
        try:
            engine = make_engine(f"sqlite:///{tmp}/empty.db")
            command.revision(
                alembic_config(engine), message="initial schema", autogenerate=True, rev_id="0001"
            )
            engine.dispose()
        finally:
            for p in later:
                shutil.move(Path(tmp) / p.name, VERSIONS / p.name)


if __name__ == "__main__":
    main()
