"""CLI: ``madoguchi retention run|set``, ``madoguchi backup --to`` and ``madoguchi restore --from``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(help="Backup and restore of the database.")
retention_app = typer.Typer(help="Retention of identifying data (個人情報の保存期間).", no_args_is_help=True)
console = Console(stderr=True)


def _settings():  # type: ignore[no-untyped-def]
    from madoguchi_cli import _settings as settings

    return settings()


@retention_app.command("run")
def retention_run(
    dry_run: bool = typer.Option(False, "--dry-run", help="only print what would be purged"),
    today: str | None = typer.Option(None, help="JST date to evaluate (YYYY-MM-DD); default today"),
) -> None:
    """Purge identifying data whose retention period is over (JST dates); prints a JSON report."""
    from crm.db import make_engine
    from crm.retention import run_retention

    settings = _settings()
    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        console.print(f"[red]--today {today!r} is not a date: write YYYY-MM-DD[/red]")
        raise typer.Exit(2) from None
    engine = make_engine(settings.database_url)
    try:
        report = run_retention(engine, settings.data_dir, today=day, dry_run=dry_run)
    finally:
        engine.dispose()
    typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    verb = "would purge" if dry_run else "purged"
    console.print(f"{verb} {len(report.tickets)} tickets and {len(report.contacts)} contacts")


@retention_app.command("set")
def retention_set(
    center: str = typer.Option(..., help="center code"),
    years: int = typer.Option(..., help="years identifying data is kept after a consultation ends"),
) -> None:
    """Set a center's retention period (default 5 years)."""
    from sqlmodel import Session

    from crm.db import make_engine
    from crm.errors import DomainError
    from crm.retention import set_retention_years

    engine = make_engine(_settings().database_url)
    try:
        with Session(engine) as session:
            set_retention_years(session, center_code=center, years=years, actor_id=None)
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    console.print(f"center {center} keeps identifying data {years} years after a consultation ends")


@app.command("backup")
def backup_command(
    to: Path = typer.Option(..., "--to", help="backup file to write"),
    force: bool = typer.Option(False, help="overwrite an existing file"),
) -> None:
    """Back up the database (SQLite online backup, or pg_dump custom format)."""
    from crm.backup import backup
    from crm.errors import DomainError

    try:
        result = backup(_settings().database_url, to, force=force)
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    rows = sum(result.tables.values())
    console.print(
        f"backed up {len(result.tables)} tables, {rows} rows to {result.path} ({result.size} bytes)"
    )


@app.command("restore")
def restore_command(
    src: Path = typer.Option(..., "--from", help="backup file to restore"),
    force: bool = typer.Option(False, help="replace a database that already has tables"),
) -> None:
    """Restore a backup into the configured database (stop the API and workers first)."""
    from crm.backup import restore
    from crm.errors import DomainError

    try:
        result = restore(_settings().database_url, src, force=force)
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    rows = sum(result.tables.values())
    console.print(f"restored {len(result.tables)} tables, {rows} rows from {result.path}")
