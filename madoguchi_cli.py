"""The ``madoguchi`` command: serve, worker, migrate, demo, createuser (+ staffing, knowledge)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError
from rich.console import Console

from config.modules import import_optional
from config.settings import Settings, get_settings

if TYPE_CHECKING:  # aiosmtpd is imported only when the listener starts
    from aiosmtpd.controller import Controller

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
    from config.logs import logging_config
    from config.metrics import MULTIPROC_ENV, prepare_multiprocess_dir

    if workers > 1 and not os.environ.get(MULTIPROC_ENV):
        # Every API process writes its metrics there; /metrics sums them (config/metrics.py).
        os.environ[MULTIPROC_ENV] = prepare_multiprocess_dir(settings.data_dir / "prometheus")
    if settings.smtp_listen_port:
        _start_smtp_listener(settings)  # MADOGUCHI_SMTP_LISTEN_PORT: mail in, next to the API
    uvicorn.run(
        "app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=logging_config(settings),
        access_log=False,  # ours (madoguchi.access) names route templates, not paths, queries or addresses
    )


@cli.command()
def worker(burst: bool = typer.Option(False, help="exit when the queue is empty")) -> None:
    """Run an RQ worker (with the scheduler and periodic jobs). Needs MADOGUCHI_REDIS_URL."""
    from bootstrap import build_runtime
    from config.jobs import RQJobs, run_rq_worker
    from config.logs import configure_logging

    settings = _settings()
    if not settings.redis_url:
        console.print(
            "[red]MADOGUCHI_REDIS_URL is not set: in embedded mode jobs run inside `madoguchi serve`.[/red]"
        )
        raise typer.Exit(2)
    configure_logging(settings)
    runtime = build_runtime(settings)
    assert isinstance(runtime.jobs, RQJobs)
    runtime.jobs.start(runtime.periodic)
    try:
        run_rq_worker(runtime.jobs, burst=burst)  # survives Redis restarts (config/jobs.py)
    finally:
        runtime.close()


def _start_smtp_listener(settings: Settings) -> Controller:
    """The SMTP listener (channels/email/smtpd.py) on its own runtime; returns its controller."""
    from bootstrap import build_runtime, set_runtime
    from channels.email.smtpd import start_smtpd
    from config.jobs import InProcessJobs

    runtime = build_runtime(settings)
    set_runtime(runtime)
    if isinstance(runtime.jobs, InProcessJobs):
        runtime.jobs.start([])  # parse jobs run here; with Redis the workers run them
    controller = start_smtpd(runtime)
    console.print(f"SMTP listener on {controller.hostname}:{controller.port} (mail for the email accounts)")
    return controller


@cli.command()
def smtpd() -> None:
    """Run the SMTP listener only (MADOGUCHI_SMTP_LISTEN_HOST/_PORT, default 127.0.0.1:2525)."""
    import time

    from config.logs import configure_logging

    settings = _settings()
    configure_logging(settings)
    controller = _start_smtp_listener(settings)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        controller.stop()


email_app = typer.Typer(help="The email channel: IMAP polling.", no_args_is_help=True)
cli.add_typer(email_app, name="email")


@email_app.command("poll")
def email_poll() -> None:
    """Fetch new mail once from every email account with IMAP settings (UID-based, never twice)."""
    from bootstrap import build_runtime
    from channels.email.imap import poll_all

    runtime = build_runtime(_settings())
    try:
        results = poll_all(runtime)
        for r in results:
            line = f"account {r.account_id}: {r.fetched} fetched, {r.stored} new"
            console.print(line + (f"  [red]{r.error}[/red]" if r.error else ""))
        if not results:
            console.print("no email account has IMAP settings (madoguchi channel add email ... imap_host)")
        runtime.jobs.drain()
    finally:
        runtime.close()
    if any(r.error for r in results):
        raise typer.Exit(1)


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
    from knowledge.demo import index_demo_knowledge

    settings = _settings()
    if not settings.is_dev:
        console.print("[red]refusing to load demo data with MADOGUCHI_ENV=prod[/red]")
        raise typer.Exit(2)
    summary = load_demo(settings, index_knowledge=index_demo_knowledge)
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
    for module_name, name in (
        ("routing.cli", None),
        ("knowledge.cli", "knowledge"),
        ("knowledge.trends.cli", "trends"),
    ):
        module = import_optional(module_name)
        if module is None:
            continue
        if name is None:
            for command in module.app.registered_commands:
                cli.registered_commands.append(command)
        else:
            cli.add_typer(module.app, name=name)
    privacy = import_optional("crm.privacy_cli")
    if privacy is not None:  # backup, restore, retention run|set
        cli.registered_commands.extend(privacy.app.registered_commands)
        cli.add_typer(privacy.retention_app, name="retention")
    admin = import_optional("crm.admin_cli")
    for group_name, group in (admin.GROUPS if admin is not None else {}).items():  # channel, center, user
        cli.add_typer(group, name=group_name)


def main() -> None:
    _mount_subcommands()
    cli(prog_name="madoguchi")


if __name__ == "__main__":
    main()
