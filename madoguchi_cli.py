"""The ``madoguchi`` command: serve, worker, migrate, demo, createuser (+ staffing, knowledge)."""

from __future__ import annotations

import logging
import sys

import typer
from pydantic import ValidationError
from rich.console import Console

from config.modules import import_optional
from config.settings import Settings, get_settings

cli = typer.Typer(
    help="Madoguchi 窓口: contact-center backend for consumer affairs centers.", no_args_is_help=True
)
console = Console(stderr=True)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        for err in exc.errors():
            console.print(f"[red]configuration error:[/red] {err['msg']}")
        raise typer.Exit(2) from None


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = typer.Option(1, help="API processes (deployment: several, behind a load balancer)"),
) -> None:
    """Run the HTTP API (and, in embedded mode, the in-process job worker)."""
    import uvicorn

    settings = _settings()
    if workers > 1 and settings.redis_url is None:
        console.print(
            "[red]several API processes need MADOGUCHI_REDIS_URL (jobs and live events go through Redis)[/red]"
        )
        raise typer.Exit(2)
    console.print(
        f"Madoguchi on http://{host}:{port}  (database: {_safe_url(settings.database_url)}, "
        f"jobs: {'RQ on Redis' if settings.redis_url else 'in-process'})"
    )
    uvicorn.run("app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")


@cli.command()
def worker(burst: bool = typer.Option(False, help="exit when the queue is empty")) -> None:
    """Run an RQ worker (with the scheduler and periodic jobs). Needs MADOGUCHI_REDIS_URL."""
    from rq import SimpleWorker

    from config.wiring import build_runtime

    settings = _settings()
    if not settings.redis_url:
        console.print(
            "[red]MADOGUCHI_REDIS_URL is not set: in embedded mode jobs run inside `madoguchi serve`.[/red]"
        )
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO)
    runtime = build_runtime(settings)
    jobs = runtime.jobs
    runtime.jobs.start(runtime.periodic)
    w = SimpleWorker([jobs.queue], connection=runtime.redis, serializer=jobs.serializer)  # type: ignore[attr-defined]
    try:
        w.work(burst=burst, with_scheduler=True)
    finally:
        runtime.close()


@cli.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic)."""
    from crm.db import make_engine
    from crm.schema import migrate as run_migrations

    settings = _settings()
    engine = make_engine(settings.database_url)
    run_migrations(engine)
    engine.dispose()
    console.print(f"schema is up to date ({_safe_url(settings.database_url)})")


@cli.command()
def demo() -> None:
    """Load demo centers, users and past consultations (idempotent)."""
    from crm.demo import load_demo

    settings = _settings()
    if not settings.is_dev:
        console.print("[red]refusing to load demo data with MADOGUCHI_ENV=prod[/red]")
        raise typer.Exit(2)
    summary = load_demo(settings)
    console.print(summary)


@cli.command()
def createuser(
    username: str = typer.Option(...),
    password: str = typer.Option(..., prompt=True, hide_input=True),
    role: str = typer.Option("counselor", help="counselor | supervisor | admin"),
    center: str | None = typer.Option(None, help="center code (required for counselors and supervisors)"),
    display_name: str = "",
) -> None:
    """Create a user."""
    from sqlmodel import Session

    from crm.accounts import create_user
    from crm.db import make_engine
    from crm.errors import DomainError
    from crm.models import Role

    settings = _settings()
    try:
        role_value = Role(role)
    except ValueError:
        console.print(f"[red]unknown role {role!r}: use counselor, supervisor or admin[/red]")
        raise typer.Exit(2) from None
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        try:
            user = create_user(
                session,
                username=username,
                password=password,
                role=role_value,
                center_code=center,
                display_name=display_name,
            )
        except DomainError as exc:
            console.print(f"[red]{exc.message}[/red]")
            raise typer.Exit(1) from None
        console.print(f"created {user.role.value} {user.username} (id {user.id})")
    engine.dispose()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _mount_subcommands() -> None:
    for module_name, name in (("routing.cli", None), ("knowledge.cli", "knowledge")):
        module = import_optional(module_name)
        if module is None:
            continue
        if name is None:
            for command in module.app.registered_commands:
                cli.registered_commands.append(command)
        else:
            cli.add_typer(module.app, name=name)


def main() -> None:
    _mount_subcommands()
    cli(prog_name="madoguchi")


if __name__ == "__main__":
    sys.exit(main())
