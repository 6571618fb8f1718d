"""``madoguchi channel|center|user ...``: the administration API's command-line twin.

Each command opens one session, calls one service (the same ones the API calls, so the same
validation and audit) and prints a table, or with ``--json`` one JSON document on stdout. Errors go
to stderr with exit status 1 (2 for configuration errors). ``channel list`` never prints a secret;
``channel add`` prints an email/voice account's ``inbound_token`` this once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from config.settings import Settings, get_settings
from crm import center_admin, user_admin
from crm import channel_accounts as accounts
from crm.admin_schemas import CenterAdminPublic, ChannelPublic, UserAdminPublic
from crm.db import make_engine
from crm.errors import DomainError
from crm.models import Role

channel_app = typer.Typer(help="Channel accounts: LINE official accounts, email addresses, phone numbers.")
channel_add_app = typer.Typer(help="Add a channel account.")
channel_app.add_typer(channel_add_app, name="add")
center_app = typer.Typer(help="Centers: hours, closed dates, backup rules, postal prefixes.")
user_app = typer.Typer(help="Users: role, center, skills, languages, qualifications, active.")
GROUPS = {"channel": channel_app, "center": center_app, "user": user_app}

err = Console(stderr=True, soft_wrap=True)
out = Console()
JsonOpt = typer.Option(False, "--json", help="print one JSON document")


@contextmanager
def _session() -> Iterator[tuple[Session, Settings]]:
    """A session on the configured database; domain errors become a red message and exit 1."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        for e in exc.errors():
            err.print(f"[red]configuration error:[/red] {e['msg']}")
        raise typer.Exit(2) from None
    engine = make_engine(settings.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session, settings
    except DomainError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, default=str))


def _show(as_json: bool, doc: Any, text: str) -> None:
    if as_json:
        _print_json(doc)
    else:
        out.print(text)


def _split(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def _json_option(name: str, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        err.print(f"[red]--{name}: not valid JSON: {value!r}[/red]")
        raise typer.Exit(2) from None


def _given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


# -- channel ---------------------------------------------------------------------------------------


def _channel_doc(info: accounts.ChannelAccountInfo, settings: Settings) -> dict[str, Any]:
    doc = ChannelPublic.from_info(info, settings.public_base_url).model_dump()
    return {k: v for k, v in doc.items() if not (k in ("webhook_path", "inbound_path") and v is None)}


def _add(kind: str, center: str | None, as_json: bool, **fields: Any) -> None:
    with _session() as (session, settings):
        center_id = center_admin.find_center(session, code=center).id if center else None
        info, token = accounts.create_account(
            session, kind=kind, center_id=center_id, keys=settings.encryption_keys, **fields
        )
        doc = _channel_doc(info, settings)
        if token is not None:
            doc["inbound_token"] = token
    if as_json:
        _print_json(doc)
        return
    path_key = accounts.path_field(kind)
    out.print(f"created {kind} account {info.id} ({info.name}, {info.address})")
    out.print(f"{path_key}: {doc[path_key]}   url: {doc['url']}")
    if token is not None:
        out.print(f"inbound_token (shown this once, keep it safe): {token}")


@channel_add_app.command("line")
def add_line(
    center: str = typer.Option(..., help="center code"),
    channel_secret: str = typer.Option(..., help="LINE channel secret (Messaging API tab)"),
    access_token: str = typer.Option(..., help="long-lived channel access token"),
    channel_id: str | None = typer.Option(
        None, help="LINE Channel ID (digits); default: one account per center"
    ),
    name: str | None = typer.Option(None, help="display name"),
    api_base_url: str | None = typer.Option(None, help="Messaging API base URL (tests: a local fake)"),
    blob_base_url: str | None = typer.Option(None, help="content API base URL"),
    as_json: bool = JsonOpt,
) -> None:
    """Add a center's LINE official account."""
    _add(
        "line",
        center,
        as_json,
        name=name,
        address=channel_id,
        settings=_given(api_base_url=api_base_url, blob_base_url=blob_base_url),
        secrets={"channel_secret": channel_secret, "access_token": access_token},
    )


@channel_add_app.command("email")
def add_email(
    center: str = typer.Option(..., help="center code"),
    address: str = typer.Option(..., help="the address consumers write to"),
    name: str | None = typer.Option(None),
    imap_host: str | None = typer.Option(None),
    imap_port: int | None = typer.Option(None),
    imap_user: str | None = typer.Option(None),
    imap_password: str | None = typer.Option(None, envvar="MADOGUCHI_CLI_IMAP_PASSWORD"),
    smtp_url: str | None = typer.Option(None, help="relay, e.g. smtp://relay.example.jp:587"),
    smtp_user: str | None = typer.Option(None),
    smtp_password: str | None = typer.Option(None, envvar="MADOGUCHI_CLI_SMTP_PASSWORD"),
    as_json: bool = JsonOpt,
) -> None:
    """Add a center's email address (prints its inbound token once)."""
    _add(
        "email",
        center,
        as_json,
        name=name,
        address=address,
        settings=_given(
            imap_host=imap_host,
            imap_port=imap_port,
            imap_user=imap_user,
            smtp_url=smtp_url,
            smtp_user=smtp_user,
        ),
        secrets=_given(imap_password=imap_password, smtp_password=smtp_password),
    )


@channel_add_app.command("voice")
def add_voice(
    number: str = typer.Option(..., help="E.164, e.g. +81312345678"),
    center: str | None = typer.Option(None, help="center code (omit: an entry number serving every center)"),
    name: str | None = typer.Option(None),
    account_sid: str | None = typer.Option(None, help="Twilio account SID"),
    auth_token: str | None = typer.Option(None, envvar="MADOGUCHI_CLI_TWILIO_AUTH_TOKEN"),
    default_center: str | None = typer.Option(
        None,
        help="188 entry: center code for callers who give no postal code (default: the first prefectural)",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Add a phone number (prints its inbound token once)."""
    _add(
        "voice",
        center,
        as_json,
        name=name,
        address=number,
        settings=_given(account_sid=account_sid, default_center=default_center),
        secrets=_given(auth_token=auth_token),
    )


@channel_app.command("list")
def list_channels(
    kind: str | None = typer.Option(None), center: str | None = typer.Option(None), as_json: bool = JsonOpt
) -> None:
    """List channel accounts (never their secrets)."""
    with _session() as (session, settings):
        center_id = center_admin.find_center(session, code=center).id if center else None
        infos = accounts.list_accounts(session, kind=kind, center_id=center_id, keys=settings.encryption_keys)
        docs = [_channel_doc(i, settings) for i in infos]
    if as_json:
        _print_json(docs)
        return
    table = Table("id", "kind", "center", "address", "public_id", "enabled", "state")
    for d in docs:
        state = f"[red]broken: {d['broken_reason']}[/red]" if d["broken_reason"] else "ok"
        table.add_row(
            str(d["id"]),
            d["kind"],
            d["center_code"] or "(all)",
            d["address"],
            d["public_id"],
            "yes" if d["enabled"] else "no",
            state,
        )
    out.print(table)


@channel_app.command("disable")
def disable_channel(account_id: int) -> None:
    """Stop taking traffic on an account (its webhook answers 410)."""
    with _session() as (session, _settings):
        accounts.disable_account(session, account_id=account_id)
    out.print(f"channel account {account_id} disabled")


@channel_app.command("enable")
def enable_channel(account_id: int) -> None:
    """Take traffic on a disabled account again."""
    with _session() as (session, settings):
        accounts.update_account(session, account_id=account_id, keys=settings.encryption_keys, enabled=True)
    out.print(f"channel account {account_id} enabled")


@channel_app.command("rotate-token")
def rotate_token(account_id: int, as_json: bool = JsonOpt) -> None:
    """Replace an email/voice account's inbound token (the old one stops working)."""
    with _session() as (session, settings):
        token = accounts.rotate_inbound_token(session, account_id=account_id, keys=settings.encryption_keys)
    if as_json:
        _print_json({"id": account_id, "inbound_token": token})
    else:
        out.print(f"inbound_token (shown this once): {token}")


@channel_app.command("reencrypt")
def reencrypt() -> None:
    """Re-encrypt every account's secrets with the first MADOGUCHI_ENCRYPTION_KEYS key (after rotation)."""
    with _session() as (session, settings):
        done, broken = accounts.reencrypt_accounts(session, keys=settings.encryption_keys)
    out.print(f"re-encrypted {done} account(s); {broken} unreadable (see `madoguchi channel list`)")
    if broken:
        raise typer.Exit(1)


# -- center ----------------------------------------------------------------------------------------


def _center_doc(center: Any) -> dict[str, Any]:
    return CenterAdminPublic.model_validate(center).model_dump()


def _center_fields(**options: Any) -> dict[str, Any]:
    return _given(
        name=options["name"],
        prefecture=options["prefecture"],
        level=options["level"],
        parent_code=options["parent"],
        timezone=options["timezone"],
        postal_prefixes=_split(options["postal_prefixes"]),
        closed_dates=_split(options["closed_dates"]),
        hours=_json_option("hours", options["hours"]),
        backup_rules=_json_option("backup-rules", options["backup_rules"]),
    )


@center_app.command("add")
def add_center(
    code: str,
    name: str = typer.Option(...),
    prefecture: str = typer.Option(...),
    level: str | None = typer.Option(None, help="municipal | prefectural | national"),
    parent: str | None = typer.Option(None, help="parent center code (backup chain)"),
    hours: str | None = typer.Option(None, help='JSON, e.g. {"mon": [["09:00","17:00"]]}'),
    closed_dates: str | None = typer.Option(None, help="comma-separated YYYY-MM-DD or MM-DD"),
    backup_rules: str | None = typer.Option(None, help='JSON, e.g. {"sat": "kokusen"}'),
    postal_prefixes: str | None = typer.Option(None, help="comma-separated, e.g. 100,101"),
    timezone: str | None = typer.Option(None),
    as_json: bool = JsonOpt,
) -> None:
    """Add a center."""
    fields = _center_fields(
        name=name,
        prefecture=prefecture,
        level=level,
        parent=parent,
        hours=hours,
        closed_dates=closed_dates,
        backup_rules=backup_rules,
        postal_prefixes=postal_prefixes,
        timezone=timezone,
    )
    with _session() as (session, _settings):
        doc = _center_doc(center_admin.create_center(session, code=code, **fields))
    _show(as_json, doc, f"created center {code} (id {doc['id']})")


@center_app.command("update")
def update_center(
    code: str,
    name: str | None = typer.Option(None),
    prefecture: str | None = typer.Option(None),
    level: str | None = typer.Option(None),
    parent: str | None = typer.Option(None, help="parent center code ('' to clear)"),
    hours: str | None = typer.Option(None, help="JSON"),
    closed_dates: str | None = typer.Option(None, help="comma-separated (replaces the list)"),
    backup_rules: str | None = typer.Option(None, help="JSON (replaces the rules)"),
    postal_prefixes: str | None = typer.Option(None, help="comma-separated (replaces the list)"),
    timezone: str | None = typer.Option(None),
    as_json: bool = JsonOpt,
) -> None:
    """Change a center's settings."""
    fields = _center_fields(
        name=name,
        prefecture=prefecture,
        level=level,
        parent=parent,
        hours=hours,
        closed_dates=closed_dates,
        backup_rules=backup_rules,
        postal_prefixes=postal_prefixes,
        timezone=timezone,
    )
    with _session() as (session, _settings):
        center = center_admin.find_center(session, code=code)
        doc = _center_doc(center_admin.update_center(session, center_id=center.id, **fields))  # type: ignore[arg-type]
    _show(as_json, doc, f"updated center {code}: {', '.join(fields) or 'nothing'}")


@center_app.command("list")
def list_centers(as_json: bool = JsonOpt) -> None:
    """List centers."""
    from crm.queries import list_centers as query

    with _session() as (session, _settings):
        docs = [_center_doc(c) for c in query(session)]
    if as_json:
        _print_json(docs)
        return
    table = Table("id", "code", "name", "level", "parent", "backup rules", "closed dates")
    for d in docs:
        table.add_row(
            str(d["id"]),
            d["code"],
            d["name"],
            d["level"],
            d["parent_code"] or "",
            json.dumps(d["backup_rules"], ensure_ascii=False),
            str(len(d["closed_dates"])),
        )
    out.print(table)


# -- user ------------------------------------------------------------------------------------------


def _user_doc(user: Any) -> dict[str, Any]:
    return UserAdminPublic.model_validate(user).model_dump(mode="json")


@user_app.command("list")
def list_users(
    center: str | None = typer.Option(None), role: str | None = typer.Option(None), as_json: bool = JsonOpt
) -> None:
    """List users."""
    with _session() as (session, _settings):
        center_id = center_admin.find_center(session, code=center).id if center else None
        try:
            role_value = Role(role) if role else None
        except ValueError:
            raise DomainError(f"--role: {role!r} is not one of counselor, supervisor, admin") from None
        docs = [_user_doc(u) for u in user_admin.list_users(session, center_id=center_id, role=role_value)]
    if as_json:
        _print_json(docs)
        return
    table = Table("id", "username", "name", "role", "center", "skills", "languages", "active")
    for d in docs:
        table.add_row(
            str(d["id"]),
            d["username"],
            d["display_name"],
            d["role"],
            str(d["center_id"] or ""),
            ", ".join(d["skills"]),
            ", ".join(d["languages"]),
            "yes" if d["is_active"] else "no",
        )
    out.print(table)


@user_app.command("update")
def update_user(
    username: str,
    role: str | None = typer.Option(None),
    center: str | None = typer.Option(None, help="center code"),
    display_name: str | None = typer.Option(None),
    skills: str | None = typer.Option(None, help="comma-separated (replaces the list)"),
    languages: str | None = typer.Option(None, help="comma-separated, e.g. ja,en"),
    qualifications: str | None = typer.Option(None, help="comma-separated"),
    active: bool | None = typer.Option(None, "--active/--inactive"),
    as_json: bool = JsonOpt,
) -> None:
    """Change a user's role, center, skills, languages, qualifications or active flag."""
    with _session() as (session, _settings):
        user = user_admin.find_user(session, username=username)
        fields = _given(
            role=role,
            display_name=display_name,
            skills=_split(skills),
            languages=_split(languages),
            qualifications=_split(qualifications),
            is_active=active,
        )
        if center is not None:
            fields["center_id"] = center_admin.find_center(session, code=center).id
        doc = _user_doc(user_admin.update_user(session, user_id=user.id, **fields))  # type: ignore[arg-type]
    _show(as_json, doc, f"updated {username}: {', '.join(fields) or 'nothing'}")
