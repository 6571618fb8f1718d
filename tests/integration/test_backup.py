"""Backup and restore round trip: SQLite online backup, pg_dump / pg_restore on PostgreSQL.

Data is created, backed up, the database cleared, the backup restored into a fresh database (and
with --force over the cleared one), then row counts and a few records are compared.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from config.runtime import Runtime
from crm import backup
from crm.db import create_scratch_database, drop_database, make_engine
from crm.errors import BadRequest, Conflict
from crm.models import Center, ContactPersonalData, Message, Ticket
from tests.conftest import _reset_database
from tests.factories import make_center
from tests.privacy_support import NAME, TEXT, plant_consumer


@pytest.fixture
def scratch_url(runtime: Runtime, tmp_path: Path) -> Iterator[str]:
    """An empty database on the same backend as the test database."""
    url = runtime.settings.database_url
    if url.startswith("postgresql"):
        scratch = create_scratch_database(url, f"madoguchi_restore_{os.getpid()}")
        yield scratch
        drop_database(scratch)
    else:
        yield f"sqlite:///{tmp_path / 'restored.db'}"


def _records(url: str) -> tuple[list[str], list[str], list[str | None]]:
    engine = make_engine(url, durable=False)
    try:
        with Session(engine) as s:
            codes = list(s.exec(select(Center.code).order_by(col(Center.id))).all())
            bodies = list(s.exec(select(Message.body).order_by(col(Message.id))).all())
            names = list(s.exec(select(ContactPersonalData.full_name)).all())
            return codes, bodies, names
    finally:
        engine.dispose()


def _fill(runtime: Runtime, session: Session) -> None:
    tokyo, osaka = make_center(session, "TKY"), make_center(session, "OSK")
    plant_consumer(session, tokyo, runtime.settings.data_dir, closed_at=None)
    plant_consumer(session, osaka, runtime.settings.data_dir, closed_at=None, sender="U-second")
    runtime.jobs.drain()  # routing's jobs write too: let them finish before counting


def test_round_trip_into_a_fresh_database(
    runtime: Runtime, session: Session, scratch_url: str, tmp_path: Path
) -> None:
    _fill(runtime, session)
    source = runtime.settings.database_url
    counts, records = backup.row_counts(source), _records(source)
    assert counts["ticket"] == 2 and counts["message"] == 4

    made = backup.backup(source, tmp_path / "madoguchi.backup")

    assert made.size > 0 and made.tables == counts
    _reset_database(runtime)  # the disaster
    assert backup.row_counts(source)["ticket"] == 0
    restored = backup.restore(scratch_url, made.path)
    assert restored.tables == counts
    assert _records(scratch_url) == records
    assert TEXT in records[1] and NAME in records[2]
    engine = make_engine(scratch_url, durable=False)
    try:  # sequences came back too: a new row does not collide with restored ids
        with Session(engine) as s:
            s.add(Center(code="NEW", name="新センター", prefecture="東京都"))
            s.commit()
            assert s.exec(select(Center).where(Center.code == "NEW")).one().id == 3
    finally:
        engine.dispose()


def test_restore_refuses_a_database_with_tables_unless_forced(
    runtime: Runtime, session: Session, tmp_path: Path
) -> None:
    _fill(runtime, session)
    source = runtime.settings.database_url
    counts, records = backup.row_counts(source), _records(source)
    made = backup.backup(source, tmp_path / "madoguchi.backup")
    _reset_database(runtime)
    runtime.engine.dispose()

    with pytest.raises(Conflict, match="--force"):
        backup.restore(source, made.path)
    assert backup.row_counts(source)["ticket"] == 0
    backup.restore(source, made.path, force=True)

    runtime.engine.dispose()
    assert backup.row_counts(source) == counts and _records(source) == records
    with Session(runtime.engine) as s:
        assert len(s.exec(select(Ticket)).all()) == 2


def test_backup_refuses_to_overwrite_and_restore_refuses_a_foreign_file(
    runtime: Runtime, session: Session, scratch_url: str, tmp_path: Path
) -> None:
    make_center(session)
    target = tmp_path / "existing.backup"
    target.write_bytes(b"precious")
    with pytest.raises(Conflict, match="already exists"):
        backup.backup(runtime.settings.database_url, target)
    assert target.read_bytes() == b"precious"
    with pytest.raises(BadRequest, match="not a"):
        backup.restore(scratch_url, target)
    with pytest.raises(BadRequest, match="not a file"):
        backup.restore(scratch_url, tmp_path / "missing.backup")


def test_an_online_backup_runs_beside_a_writer_and_holds_only_committed_work(
    runtime: Runtime, session: Session, scratch_url: str, tmp_path: Path
) -> None:
    make_center(session, "KEEP")
    with Session(runtime.engine) as writer:
        writer.add(Center(code="UNCOMMITTED", name="途中", prefecture="大阪府"))
        writer.flush()
        made = backup.backup(runtime.settings.database_url, tmp_path / "online.backup")
        writer.rollback()
    backup.restore(scratch_url, made.path)
    assert _records(scratch_url)[0] == ["KEEP"]


def test_cli_backup_and_restore(
    runtime: Runtime, session: Session, scratch_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import madoguchi_cli

    _fill(runtime, session)
    madoguchi_cli._mount_subcommands()
    file = tmp_path / "cli.backup"
    monkeypatch.setattr(madoguchi_cli, "_settings", lambda: runtime.settings)
    made = CliRunner().invoke(madoguchi_cli.cli, ["backup", "--to", str(file)])
    assert made.exit_code == 0, made.output
    assert "backed up" in made.output and file.is_file()
    again = CliRunner().invoke(madoguchi_cli.cli, ["backup", "--to", str(file)])
    assert again.exit_code == 1 and "--force" in again.output

    target = runtime.settings.model_copy(update={"database_url": scratch_url})
    monkeypatch.setattr(madoguchi_cli, "_settings", lambda: target)
    restored = CliRunner().invoke(madoguchi_cli.cli, ["restore", "--from", str(file)])
    assert restored.exit_code == 0, restored.output
    refused = CliRunner().invoke(madoguchi_cli.cli, ["restore", "--from", str(file)])
    assert refused.exit_code == 1 and "--force" in refused.output
    assert backup.row_counts(scratch_url)["ticket"] == 2
