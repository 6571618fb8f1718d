"""Backup and restore of the database: SQLite online backup, PostgreSQL pg_dump / pg_restore.

* SQLite: ``sqlite3.Connection.backup`` copies a consistent snapshot while the server keeps running
  (WAL); restoring copies the file's pages back into the target database.
* PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore``; the client tools must be at least the
  server's major version (checked before running), the password goes through ``PGPASSWORD``.

Restoring onto a database that already has tables is refused unless ``force`` (it replaces them).
Attachments live on disk under ``<data_dir>/attachments`` and are copied separately (see the README).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

from crm.errors import BadRequest, Conflict

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
PG_TIMEOUT_SECONDS = 3600


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    tables: dict[str, int]  # row count per table at the time of the backup (restore: after it)


def backup(database_url: str, dest: Path, *, force: bool = False) -> BackupResult:
    """Write a backup of ``database_url`` to ``dest`` (refuses to overwrite unless ``force``)."""
    if dest.exists() and not force:
        raise Conflict(f"{dest} already exists: choose another file or pass --force to overwrite it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(_sqlite_path(url), tmp)
    elif url.get_backend_name() == "postgresql":
        _check_pg_tools(url, "pg_dump")
        _run_pg(["pg_dump", "--format=custom", "--no-owner", f"--file={tmp}"], url)
    else:
        raise BadRequest(f"cannot back up a {url.get_backend_name()} database (SQLite and PostgreSQL only)")
    tmp.replace(dest)
    return BackupResult(dest, dest.stat().st_size, row_counts(database_url))


def restore(database_url: str, src: Path, *, force: bool = False) -> BackupResult:
    """Restore the backup ``src`` into ``database_url``; refused onto a database with tables unless
    ``force``. Stop the API and workers first."""
    if not src.is_file():
        raise BadRequest(f"{src} is not a file")
    url = make_url(database_url)
    with src.open("rb") as fh:
        head = fh.read(16)
    existing = [t for t in _table_names(database_url) if not t.startswith("sqlite_")]
    if existing and not force:
        raise Conflict(
            f"the target database already has {len(existing)} tables (e.g. {existing[0]}): restore into an "
            "empty database, or pass --force to replace its content with the backup"
        )
    if url.get_backend_name() == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise BadRequest(f"{src} is not a SQLite backup (a PostgreSQL dump restores with pg_restore)")
        _sqlite_copy(src, _sqlite_path(url))
    elif url.get_backend_name() == "postgresql":
        if not head.startswith(PG_CUSTOM_MAGIC):
            raise BadRequest(f"{src} is not a pg_dump custom-format backup")
        _check_pg_tools(url, "pg_restore")
        args = ["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction"]
        if existing:
            args += ["--clean", "--if-exists"]
        _run_pg([*args, str(src)], url, dbname_flag=True)
    else:
        raise BadRequest(f"cannot restore into a {url.get_backend_name()} database")
    return BackupResult(src, src.stat().st_size, row_counts(database_url))


def row_counts(database_url: str) -> dict[str, int]:
    """Rows per table (for the report and the round-trip test)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            names = [t for t in inspect(conn).get_table_names() if not t.startswith("sqlite_")]
            return {
                n: int(conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one()) for n in sorted(names)
            }
    finally:
        engine.dispose()


def _table_names(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return sorted(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BadRequest("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _sqlite_copy(src: Path, dest: Path) -> None:
    if not src.is_file():
        raise BadRequest(f"the SQLite database {src} does not exist")
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(dest, timeout=30)
    try:
        check = source.execute("PRAGMA quick_check").fetchone()
        if not check or check[0] != "ok":
            raise BadRequest(f"{src} is damaged (quick_check: {check[0] if check else 'no answer'})")
        source.backup(target, pages=1024)
    finally:
        target.close()
        source.close()


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URL without the password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _check_pg_tools(url: URL, tool: str) -> None:
    if shutil.which(tool) is None:
        raise BadRequest(f"{tool} is not installed (Debian: apt-get install postgresql-client)")
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    client_major = int(match.group(1)) if match else 0
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            server_num = int(conn.execute(text("SHOW server_version_num")).scalar_one())
    finally:
        engine.dispose()
    server_major = server_num // 10000
    if client_major < server_major:
        raise BadRequest(
            f"{tool} is version {client_major} but the server is {server_major}: install the "
            f"postgresql-client-{server_major} tools"
        )


def _run_pg(args: list[str], url: URL, *, dbname_flag: bool = False) -> None:
    conninfo, env = _libpq(url)
    cmd = [*args[:-1], f"--dbname={conninfo}", args[-1]] if dbname_flag else [*args, conninfo]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=PG_TIMEOUT_SECONDS)
    if proc.returncode != 0:
        raise BadRequest(f"{args[0]} failed: {proc.stderr.strip()[-2000:]}")
