"""Demo data: centers, users and a few hundred past consultations (idempotent).

Past cases become closed tickets with their PIO-NET fields; the most recent case of each scenario
arrives as a new, open consultation instead, so counselors have work waiting whose similar past
cases are in the history.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from sqlmodel import Session, select

from config.clock import JST, now_utc
from config.settings import Settings
from crm.center_hours import validate_hours
from crm.db import make_engine
from crm.demo_channels import load_demo_channels
from crm.intake import record_inbound
from crm.messaging import ChannelKind, InboundMessage
from crm.models import (
    CaseRecord,
    Center,
    Contact,
    ContactIdentity,
    Direction,
    Message,
    Note,
    RecordStatus,
    Role,
    Ticket,
    TicketStatus,
    User,
)
from crm.schema import migrate
from crm.security import hash_password

DEMO_PASSWORD = "madoguchi-demo"


def read_demo_file(name: str) -> Any:
    text = resources.files("crm").joinpath("demo_data", name).read_text(encoding="utf-8")
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def load_demo(settings: Settings, *, index_knowledge: Callable[[Session], int] | None = None) -> str:
    """Load (or top up) the demo data set; returns a summary with the demo logins.

    ``index_knowledge`` (knowledge.demo.index_demo_knowledge, passed by the entry point: crm does not
    import knowledge) indexes the closed demo cases and the references."""
    engine = make_engine(settings.database_url)
    migrate(engine)
    with Session(engine, expire_on_commit=False) as session:
        centers = _load_centers(session, read_demo_file("centers.json"))
        users = _load_users(session, read_demo_file("users.json"), centers)
        channels = load_demo_channels(session, centers, settings.encryption_keys)  # LINE + email per center
        closed, opened = _load_cases(session, read_demo_file("cases.jsonl"), centers)
        session.commit()
        indexed = index_knowledge(session) if index_knowledge is not None else 0
        session.commit()
    engine.dispose()
    return (
        f"demo data: {len(centers)} centers, {len(users)} users, {channels} channel accounts added, "
        f"{closed} past cases added, {opened} open consultations added, "
        f"{indexed} knowledge documents indexed\n"
        f"demo logins (password {DEMO_PASSWORD!r}): {demo_logins(read_demo_file('users.json'))}"
    )


def demo_logins(rows: list[dict[str, Any]]) -> str:
    """One login per role, e.g. 'tanaka (counselor, tokyo), sv-tokyo (supervisor, tokyo), admin (admin)'."""
    picked = []
    for role in ("counselor", "supervisor", "admin"):
        row = next((r for r in rows if r.get("role", "counselor") == role), None)
        if row:
            where = f", {row['center_code']}" if row.get("center_code") else ""
            picked.append(f"{row['username']} ({role}{where})")
    return ", ".join(picked)


def _load_centers(session: Session, rows: list[dict[str, Any]]) -> dict[str, Center]:
    centers = {c.code: c for c in session.exec(select(Center)).all()}
    fields = (
        "name",
        "prefecture",
        "level",
        "parent_code",
        "postal_prefixes",
        "municipalities",
        "hours",
        "closed_dates",
        "backup_rules",
    )
    for row in rows:
        try:
            validate_hours(row.get("hours") or {})
        except ValueError as exc:
            raise ValueError(f"center {row['code']}: {exc}") from exc
        center = centers.get(row["code"]) or Center(
            code=row["code"], name=row["name"], prefecture=row["prefecture"]
        )
        for field in fields:
            if field in row:
                setattr(center, field, row[field])
        session.add(center)
        centers[center.code] = center
    session.flush()
    return centers


def _load_users(session: Session, rows: list[dict[str, Any]], centers: dict[str, Center]) -> list[str]:
    existing = {u.username for u in session.exec(select(User)).all()}
    password_hash = hash_password(DEMO_PASSWORD)
    for row in rows:
        if row["username"] in existing:
            continue
        center = centers.get(row.get("center_code") or "")
        session.add(
            User(
                username=row["username"],
                display_name=row.get("display_name", row["username"]),
                password_hash=password_hash,
                role=Role(row.get("role", "counselor")),
                center_id=center.id if center else None,
                skills=row.get("skills", []),
                languages=row.get("languages", ["ja"]),
                qualifications=row.get("qualifications", []),
                capacity=row.get("capacity", {"voice": 1, "line": 3, "email": 5}),
            )
        )
    session.flush()
    return [row["username"] for row in rows]


def _load_cases(session: Session, rows: list[dict[str, Any]], centers: dict[str, Center]) -> tuple[int, int]:
    done = {
        m.external_id
        for m in session.exec(select(Message).where(Message.external_id.startswith("demo:"))).all()  # type: ignore[union-attr]
    }
    open_ids = open_case_ids(rows)
    closed = opened = 0
    for row in rows:
        center = centers.get(row.get("center_code", "")) or next(iter(centers.values()))
        external_id = f"demo:{row['id']}"
        if external_id in done:
            continue
        if row["id"] in open_ids:
            _open_case(session, row, center, external_id, minutes_ago=5 * (opened + 1))
            opened += 1
        else:
            _closed_case(session, row, center, external_id)
            closed += 1
    return closed, opened


def open_case_ids(rows: list[dict[str, Any]]) -> set[str]:
    """The most recent case of each scenario arrives as a new consultation; the rest are history."""
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = row.get("scenario", row["id"])
        if key not in latest or row.get("received_on", "") >= latest[key].get("received_on", ""):
            latest[key] = row
    return {row["id"] for row in latest.values()}


def _closed_case(session: Session, row: dict[str, Any], center: Center, external_id: str) -> None:
    received = _jst_noon(row.get("received_on", "2025-01-01"))
    contact = Contact(
        age_band=row.get("age_band"), gender=row.get("gender"), occupation=row.get("occupation")
    )
    session.add(contact)
    session.flush()
    channel = row.get("channel", "voice")
    session.add(ContactIdentity(contact_id=contact.id, channel=channel, external_id=f"demo-{row['id']}"))  # type: ignore[arg-type]
    ticket = Ticket(
        center_id=center.id,  # type: ignore[arg-type]
        contact_id=contact.id,  # type: ignore[arg-type]
        channel=channel,
        status=TicketStatus.CLOSED,
        subject=row.get("subject", "")[:200],
        summary=row.get("summary", ""),
        product_category=row.get("product_category"),
        sales_method=row.get("sales_method"),
        content_keywords=row.get("content_keywords", []),
        contract_amount=row.get("contract_amount"),
        paid_amount=row.get("paid_amount"),
        outcome=row.get("outcome"),
        serious_accident=bool(row.get("serious_accident")),
        created_at=received,
        updated_at=received,
        resolved_at=received,
        closed_at=received,
    )
    session.add(ticket)
    session.flush()
    session.add(
        Message(
            ticket_id=ticket.id,  # type: ignore[arg-type]
            direction=Direction.INBOUND,
            channel=channel,
            external_id=external_id,
            body=row.get("consumer_message", ""),
            sent_at=received,
            created_at=received,
        )
    )
    if row.get("advice"):
        session.add(Note(ticket_id=ticket.id, body=row["advice"], kind="advice", created_at=received))  # type: ignore[arg-type]
    # A past case's record was approved (決裁) when it closed: statistics count approved records only.
    session.add(
        CaseRecord(
            ticket_id=ticket.id,  # type: ignore[arg-type]
            center_id=center.id,  # type: ignore[arg-type]
            status=RecordStatus.APPROVED,
            values={"business_name": row["business_name"]} if row.get("business_name") else {},
            submitted_at=received,
            reviewed_at=received,
            approved_at=received,
        )
    )


def _open_case(
    session: Session, row: dict[str, Any], center: Center, external_id: str, *, minutes_ago: int
) -> None:
    channel = (
        ChannelKind(row.get("channel", "line"))
        if row.get("channel") in ("line", "email", "voice")
        else ChannelKind.LINE
    )
    msg = InboundMessage(
        channel=channel,
        external_id=external_id,
        sender=f"demo-{row['id']}",
        text=row.get("consumer_message", ""),
        at=now_utc() - timedelta(minutes=minutes_ago),
    )
    record_inbound(session, msg, center_id=center.id)  # type: ignore[arg-type]


def _jst_noon(day: str) -> datetime:
    """Noon JST on an ISO day, so the case's 受付日 is that day in any export."""
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=JST)
