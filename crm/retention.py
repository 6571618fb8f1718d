"""Data lifecycle (個人情報保護法): identifying data is purged N years after a consultation ends.

A ticket *ends* when it is resolved or closed (``closed_at``, else ``resolved_at``); it is due on the
JST anniversary ``N`` years later, ``N`` being its center's :class:`~crm.models.RetentionPolicy` or
:data:`DEFAULT_RETENTION_YEARS`. A contact is due once every ticket of theirs is purged (or, with no
ticket at all, ``N`` years after it was created).

Identifying, and purged:

* ``ContactPersonalData`` (name, phone, email, postal code, address, consent) and every
  ``ContactIdentity`` (LINE userId, email address, phone number, display name): deleted;
* free text that narrates the case (message bodies, notes, ticket subject/summary/keywords/outcome,
  accident-report place/circumstances/product/damage, the knowledge case record): replaced by its
  PII-masked form (the contact's known values first, then :func:`knowledge.pii.mask`), so the
  narrative and statistics stay;
* message ``meta`` (reply/quote tokens, chat ids, location coordinates, mentions): only
  :data:`KEEP_META` survives; attachments: the file is deleted from disk, the name and hash dropped;
* raw webhook bodies (``InboundEvent.raw``) of the purged messages and of the contact's identities,
  outbox recipients and reply tokens.

Kept (not identifying): the ticket row and its PIO-NET attributes (product_category, sales_method,
amounts, channel, dates, status), the contact's 年代・性別・職業 and region cut to the prefecture,
vendor message ids (without them a late webhook redelivery would store the raw text again), and the
audit log (append-only; its details hold ids and field names, never values).

Each ticket is purged in its own short transaction; files are deleted after the commit, and a
purged attachment whose file is still on disk is retried on the next run.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.clock import jst_date, jst_day_bounds, today_jst
from crm.audit import write_audit
from crm.errors import BadRequest, NotFound
from crm.knowledge_port import knowledge_port
from crm.models import (
    AccidentReport,
    Attachment,
    Center,
    Contact,
    ContactIdentity,
    ContactPersonalData,
    DataPurge,
    InboundEvent,
    InboundEventStatus,
    Message,
    Note,
    OutboxItem,
    RetentionPolicy,
    Ticket,
    TicketStatus,
    utcnow,
)
from crm.record_privacy import purge_record_text, record_texts

log = logging.getLogger(__name__)

DEFAULT_RETENTION_YEARS = 5  # national default: consultation records are kept about 5 years
MAX_RETENTION_YEARS = 100
ENDED_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
KEEP_META = ("source_type", "sticker", "duration_ms", "declared_size", "retracted")
PURGED_RAW = '{"purged": true}'
PURGED_STATUS = "purged"
_PREFECTURE = re.compile(r"^(東京都|北海道|(?:京都|大阪)府|\S{2,3}?県)")
_KANJI_DIGITS = "〇一二三四五六七八九"
_DIGIT_CLASS = {str(d): f"[{d}{chr(0xFF10 + d)}{_KANJI_DIGITS[d]}]" for d in range(10)}
_SEPARATORS = r"[\s\-‐‑–—―−ー－.．・()（）]*"


# --- policy -------------------------------------------------------------------------------------


def retention_years(session: Session, center_id: int) -> int:
    """Years the center keeps identifying data after a ticket ends (its policy or the default)."""
    policy = session.get(RetentionPolicy, center_id)
    return policy.years if policy is not None else DEFAULT_RETENTION_YEARS


def set_retention_years(session: Session, *, center_code: str, years: int, actor_id: int | None) -> int:
    """Set a center's retention period (1..100 years) and audit the change; returns the years."""
    if not 1 <= years <= MAX_RETENTION_YEARS:
        raise BadRequest(f"retention must be 1 to {MAX_RETENTION_YEARS} years (got {years})")
    center = session.exec(select(Center).where(Center.code == center_code)).first()
    if center is None:
        raise NotFound(f"center {center_code!r} does not exist")
    policy = session.get(RetentionPolicy, center.id) or RetentionPolicy(center_id=center.id, years=years)  # type: ignore[arg-type]
    policy.years, policy.updated_at = years, utcnow()
    session.add(policy)
    write_audit(
        session,
        actor_id=actor_id,
        action="retention.set",
        object_type="center",
        object_id=center.id or 0,
        detail={"years": years},
    )
    session.commit()
    return years


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 Feb → 1 Mar in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def ended_at(ticket: Ticket) -> datetime | None:
    """When the consultation ended, or None while it is open."""
    if ticket.status not in ENDED_STATUSES:
        return None
    return ticket.closed_at or ticket.resolved_at or ticket.updated_at


def due_on(ticket: Ticket, years: int) -> date | None:
    """The JST date from which the ticket's identifying data is purged (None while open)."""
    end = ended_at(ticket)
    return add_years(jst_date(end), years) if end is not None else None


# --- scrubbing ----------------------------------------------------------------------------------


class Scrubber:
    """Replaces a contact's known identifying values, then anything the PII masker finds."""

    def __init__(self, values: Iterable[tuple[str, str]]) -> None:
        patterns: list[tuple[re.Pattern[str], str]] = []
        for kind, value in values:
            pattern = _value_pattern(kind, value)
            if pattern is not None:
                patterns.append((pattern, _PLACEHOLDER.get(kind, "[個人情報]")))
        # Longest first, so "山田太郎" is replaced before "山田".
        self._patterns = sorted(patterns, key=lambda p: -len(p[0].pattern))
        self._cache: dict[str, str] = {}

    def prime(self, texts: Iterable[str | None]) -> None:
        """Mask ``texts`` ahead, outside any transaction (SQLite: no write lock held while masking)."""
        for text in texts:
            if text and text not in self._cache:
                self._cache[text] = self._scrub(text)

    def __call__(self, text: str | None) -> str:
        if not text:
            return text or ""
        cached = self._cache.get(text)
        return cached if cached is not None else self._scrub(text)

    def _scrub(self, text: str) -> str:
        for pattern, placeholder in self._patterns:
            text = pattern.sub(placeholder, text)
        return knowledge_port().mask(text)  # the one masker, knowledge's


_PLACEHOLDER = {
    "name": "[氏名]",
    "phone": "[電話番号]",
    "email": "[メールアドレス]",
    "postal": "[郵便番号]",
    "address": "[住所]",
    "external_id": "[ID]",
}


def _value_pattern(kind: str, value: str | None) -> re.Pattern[str] | None:
    value = (value or "").strip()
    if kind in ("phone", "postal"):
        digits = re.sub(r"\D", "", value.translate(_FULLWIDTH_DIGITS))
        if len(digits) < 5:
            return None
        if digits.startswith("81") and kind == "phone":  # +81 90... is also written 090...
            digits = "0" + digits[2:]
        return re.compile(_SEPARATORS.join(_DIGIT_CLASS[d] for d in digits))
    if len(value) < 2:
        return None
    if kind == "name":  # "山田 太郎" is also written "山田太郎"
        parts = [re.escape(p) for p in value.split()]
        return re.compile(r"[\s　]*".join(parts), re.IGNORECASE)
    return re.compile(re.escape(value), re.IGNORECASE)


_FULLWIDTH_DIGITS = {0xFF10 + d: str(d) for d in range(10)}


def scrubber_for(session: Session, contact_id: int) -> Scrubber:
    """A scrubber that knows this contact's name, phone, email, address and channel ids."""
    values: list[tuple[str, str]] = []
    personal = session.get(ContactPersonalData, contact_id)
    if personal is not None:
        for kind, value in (
            ("name", personal.full_name),
            ("phone", personal.phone),
            ("email", personal.email),
            ("postal", personal.postal_code),
            ("address", personal.address),
        ):
            if value:
                values.append((kind, value))
        if personal.full_name:  # family and given name alone (2+ characters) as well
            values.extend(("name", part) for part in personal.full_name.split() if len(part) >= 2)
    for identity in _identities(session, contact_id):
        values.append(("phone" if identity.channel == "voice" else "external_id", identity.external_id))
        if identity.display_name:
            values.append(("name", identity.display_name))
    return Scrubber(values)


def _identities(session: Session, contact_id: int) -> Sequence[ContactIdentity]:
    return session.exec(select(ContactIdentity).where(ContactIdentity.contact_id == contact_id)).all()


def prefecture_of(region: str | None) -> str | None:
    """The 都道府県 at the start of ``region`` (None if it does not start with one)."""
    match = _PREFECTURE.match((region or "").strip())
    return match.group(1) if match else None


# --- purging ------------------------------------------------------------------------------------


@dataclass
class PurgeCounts:
    tickets: int = 0
    messages: int = 0
    notes: int = 0
    attachments: int = 0
    accident_reports: int = 0
    inbound_events: int = 0
    contacts: int = 0
    identities: int = 0
    personal_data: int = 0

    def add(self, other: PurgeCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def is_purged(session: Session, object_type: str, object_id: int) -> bool:
    return (
        session.exec(
            select(DataPurge.id).where(DataPurge.object_type == object_type, DataPurge.object_id == object_id)
        ).first()
        is not None
    )


def ticket_texts(session: Session, ticket: Ticket) -> list[str]:
    """The free text :func:`purge_ticket` masks, to :meth:`Scrubber.prime` before the write."""
    texts = [ticket.subject, ticket.summary, ticket.outcome or "", *ticket.content_keywords]
    messages = session.exec(select(Message).where(Message.ticket_id == ticket.id)).all()
    texts += [t for m in messages for t in (m.body, m.error or "")]
    texts += list(session.exec(select(Note.body).where(Note.ticket_id == ticket.id)).all())
    for r in session.exec(select(AccidentReport).where(AccidentReport.ticket_id == ticket.id)).all():
        texts += [r.occurred_place, r.circumstances, r.product, r.damage]
    if messages:
        for item in session.exec(
            select(OutboxItem).where(col(OutboxItem.message_id).in_([m.id for m in messages]))
        ).all():
            texts += [item.body or "", item.last_error or ""]
    texts += knowledge_port().case_document_texts(session, ticket.id or 0)
    texts += record_texts(session, ticket)  # the consultation record and its change log
    return [t for t in texts if t]


def prepared_scrubber(engine: Engine, contact_id: int, ticket_ids: Iterable[int]) -> Scrubber:
    """A contact's scrubber with the texts of ``ticket_ids`` already masked; the reads commit before
    masking starts, so no transaction (on SQLite: the write lock) is held while it computes."""
    with Session(engine, expire_on_commit=False) as session:
        scrub = scrubber_for(session, contact_id)
        texts = [
            t for tid in ticket_ids if (tk := session.get(Ticket, tid)) for t in ticket_texts(session, tk)
        ]
        session.rollback()
    scrub.prime(texts)
    return scrub


def purge_ticket(
    session: Session, ticket: Ticket, scrub: Scrubber, *, cause: str, actor_id: int | None = None
) -> PurgeCounts:
    """Mask the ticket's free text, drop its identifying metadata and files (no commit)."""
    counts = PurgeCounts(tickets=1)
    ticket.subject = scrub(ticket.subject)[:200]
    ticket.summary = scrub(ticket.summary)
    ticket.content_keywords = [scrub(k)[:64] for k in ticket.content_keywords]
    ticket.outcome = scrub(ticket.outcome)[:64] if ticket.outcome else ticket.outcome
    session.add(ticket)
    messages = session.exec(select(Message).where(Message.ticket_id == ticket.id)).all()
    event_ids = []
    for message in messages:
        if isinstance(message.meta.get("line_event_id"), str):
            event_ids.append(message.meta["line_event_id"])
        message.body = scrub(message.body)
        message.meta = {k: v for k, v in message.meta.items() if k in KEEP_META}
        message.error = scrub(message.error)[:500] if message.error else message.error
        session.add(message)
        counts.messages += 1
    message_ids = [m.id for m in messages]
    if message_ids:
        for att in session.exec(select(Attachment).where(col(Attachment.message_id).in_(message_ids))).all():
            counts.attachments += 1  # the file itself goes in sweep_purged_files, after the commit
            suffix = Path(att.filename).suffix
            att.filename = "attachment" + (suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", suffix) else "")
            att.sha256, att.external_ref, att.status = None, None, PURGED_STATUS
            session.add(att)
        for item in session.exec(select(OutboxItem).where(col(OutboxItem.message_id).in_(message_ids))).all():
            _purge_outbox(session, item, scrub)
    for note in session.exec(select(Note).where(Note.ticket_id == ticket.id)).all():
        note.body = scrub(note.body)
        session.add(note)
        counts.notes += 1
    purge_record_text(session, ticket, scrub)
    for report in session.exec(select(AccidentReport).where(AccidentReport.ticket_id == ticket.id)).all():
        report.occurred_place = scrub(report.occurred_place)[:300]
        report.circumstances = scrub(report.circumstances)
        report.product = scrub(report.product)[:500]
        report.damage = scrub(report.damage)[:1000]
        session.add(report)
        counts.accident_reports += 1
    # The raw webhook bodies: by event id, and (long ids are stored hashed) every event of the
    # consumer's identities received up to the end of this consultation.
    external_ids = [i.external_id for i in _identities(session, ticket.contact_id)]
    conditions: list[Any] = []
    if event_ids:
        conditions.append(col(InboundEvent.provider_event_id).in_(event_ids))
    if external_ids:
        conditions.append(
            and_(
                col(InboundEvent.sender).in_(external_ids),
                col(InboundEvent.received_at) <= (ended_at(ticket) or utcnow()),
            )
        )
    if conditions:
        events = session.exec(select(InboundEvent).where(or_(*conditions))).all()
        counts.inbound_events += _purge_events(session, events, scrub)
    _purge_case_document(session, ticket.id or 0, scrub)
    session.add(DataPurge(object_type="ticket", object_id=ticket.id or 0, cause=cause, actor_id=actor_id))
    return counts


def purge_contact(
    session: Session, contact: Contact, scrub: Scrubber, *, cause: str, actor_id: int | None = None
) -> PurgeCounts:
    """Delete the contact's personal data and identities; keep the anonymous attributes (no commit)."""
    counts = PurgeCounts(contacts=1)
    identities = _identities(session, contact.id or 0)
    external_ids = [i.external_id for i in identities]
    if external_ids:
        events = session.exec(
            select(InboundEvent).where(
                col(InboundEvent.sender).in_(external_ids), InboundEvent.status != InboundEventStatus.PENDING
            )
        ).all()
        counts.inbound_events += _purge_events(session, events, scrub)
        for item in session.exec(select(OutboxItem).where(col(OutboxItem.recipient).in_(external_ids))).all():
            _purge_outbox(session, item, scrub)
    for identity in identities:
        session.delete(identity)
        counts.identities += 1
    personal = session.get(ContactPersonalData, contact.id)
    if personal is not None:
        session.delete(personal)
        counts.personal_data += 1
    contact.region = prefecture_of(contact.region)
    session.add(contact)
    session.add(DataPurge(object_type="contact", object_id=contact.id or 0, cause=cause, actor_id=actor_id))
    return counts


def _purge_outbox(session: Session, item: OutboxItem, scrub: Scrubber) -> None:
    item.recipient = ""
    item.body = scrub(item.body) if item.body else item.body
    item.last_error = scrub(item.last_error)[:500] if item.last_error else None
    session.add(item)


def _purge_events(session: Session, events: Iterable[InboundEvent], scrub: Scrubber) -> int:
    n = 0
    for event in events:
        if event.status == InboundEventStatus.PENDING:
            continue  # not yet applied: purging it would lose a message; the next run gets it
        event.raw, event.sender = PURGED_RAW, None
        event.error = scrub(event.error)[:500] if event.error else None
        if event.status == InboundEventStatus.FAILED:
            event.status = InboundEventStatus.IGNORED  # never retried from the purged body
        session.add(event)
        n += 1
    return n


def _purge_case_document(session: Session, ticket_id: int, scrub: Scrubber) -> None:
    knowledge_port().scrub_case_documents(session, ticket_id, scrub)


def delete_files(data_dir: Path, storage_paths: Iterable[str]) -> int:
    """Delete purged attachment files no live attachment still shares (content-addressed)."""
    deleted = 0
    root = data_dir.resolve()
    for relative in set(storage_paths):
        path = (data_dir / relative).resolve()
        if root not in path.parents:
            log.warning("refusing to delete %s: outside the data directory", relative)
            continue
        try:
            path.unlink()
            deleted += 1
        except FileNotFoundError:
            pass
        except OSError:
            log.exception("could not delete the purged attachment %s; the next run retries", relative)
    return deleted


def sweep_purged_files(engine: Engine, data_dir: Path) -> int:
    """Delete the files of purged attachments (unless a live attachment shares them); returns count."""
    with Session(engine, expire_on_commit=False) as session:
        rows = session.exec(
            select(Attachment).where(
                Attachment.status == PURGED_STATUS, col(Attachment.storage_path).is_not(None)
            )
        ).all()
        paths = {r.storage_path for r in rows if r.storage_path}
        shared = set(
            session.exec(
                select(Attachment.storage_path).where(
                    col(Attachment.storage_path).in_(paths), Attachment.status != PURGED_STATUS
                )
            ).all()
        )
        deleted = delete_files(data_dir, paths - shared)
        gone = [p for p in paths - shared if not (data_dir / p).exists()]
        for row in rows:
            if row.storage_path in gone or row.storage_path in shared:
                row.storage_path = None
                session.add(row)
        session.commit()
    return deleted


# --- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueTicket:
    ticket_id: int
    contact_id: int
    center_code: str
    ended_on: date
    due_on: date


@dataclass
class RetentionReport:
    today: date
    dry_run: bool
    tickets: list[DueTicket] = field(default_factory=list)
    contacts: list[int] = field(default_factory=list)
    counts: PurgeCounts = field(default_factory=PurgeCounts)
    files_deleted: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "dry_run": self.dry_run,
            "tickets": [
                {
                    "ticket_id": t.ticket_id,
                    "center": t.center_code,
                    "ended_on": t.ended_on.isoformat(),
                    "due_on": t.due_on.isoformat(),
                }
                for t in self.tickets
            ],
            "contacts": self.contacts,
            "counts": self.counts.as_dict(),
            "files_deleted": self.files_deleted,
        }


def due_tickets(session: Session, today: date, *, limit: int | None = None) -> list[DueTicket]:
    """Ended, not yet purged tickets whose retention period is over on ``today`` (JST)."""
    purged = select(DataPurge.object_id).where(DataPurge.object_type == "ticket")
    ended = func.coalesce(Ticket.closed_at, Ticket.resolved_at, Ticket.updated_at)
    out: list[DueTicket] = []
    for center in session.exec(select(Center).order_by(col(Center.id))).all():
        years = retention_years(session, center.id or 0)
        # Due when today >= ended_on + years, i.e. ended before the JST day after today - years.
        _, bound = jst_day_bounds(add_years(today, -years))
        rows = session.exec(
            select(Ticket)
            .where(
                Ticket.center_id == center.id,
                col(Ticket.status).in_(ENDED_STATUSES),
                ended < bound,
                col(Ticket.id).not_in(purged),
            )
            .order_by(col(Ticket.id))
            .limit(limit)
        ).all()
        for ticket in rows:
            due = due_on(ticket, years)
            end = ended_at(ticket)
            if due is not None and end is not None and due <= today:
                out.append(DueTicket(ticket.id or 0, ticket.contact_id, center.code, jst_date(end), due))
    return out[:limit] if limit else out


def due_contacts(session: Session, today: date, due_ticket_ids: set[int]) -> list[int]:
    """Contacts not yet purged with no ticket left that is neither purged nor due now; a contact
    without any ticket is due the default period after it was created."""
    purged_tickets = select(DataPurge.object_id).where(DataPurge.object_type == "ticket")
    purged_contacts = select(DataPurge.object_id).where(DataPurge.object_type == "contact")
    kept = exists().where(
        col(Ticket.contact_id) == col(Contact.id),
        col(Ticket.id).not_in(purged_tickets),
        col(Ticket.id).not_in(sorted(due_ticket_ids)),
    )
    has_ticket = exists().where(col(Ticket.contact_id) == col(Contact.id))
    _, bound = jst_day_bounds(add_years(today, -DEFAULT_RETENTION_YEARS))
    rows = session.exec(
        select(col(Contact.id))
        .where(
            col(Contact.id).not_in(purged_contacts),
            ~kept,
            or_(has_ticket, col(Contact.created_at) < bound),
        )
        .order_by(col(Contact.id))
    ).all()
    return [r for r in rows if r is not None]


def run_retention(
    engine: Engine, data_dir: Path, *, today: date | None = None, dry_run: bool = False, limit: int = 1000
) -> RetentionReport:
    """Purge what is due on ``today`` (JST; default now); ``dry_run`` only reports it."""
    today = today or today_jst()
    report = RetentionReport(today=today, dry_run=dry_run)
    with Session(engine, expire_on_commit=False) as session:
        report.tickets = due_tickets(session, today, limit=limit)
        report.contacts = due_contacts(session, today, {t.ticket_id for t in report.tickets})
        session.rollback()
    if dry_run:
        return report
    for due in report.tickets:
        scrub = prepared_scrubber(engine, due.contact_id, [due.ticket_id])
        with Session(engine, expire_on_commit=False) as session:
            ticket = session.get(Ticket, due.ticket_id)
            if ticket is None or is_purged(session, "ticket", due.ticket_id):
                continue
            report.counts.add(purge_ticket(session, ticket, scrub, cause="retention"))
            session.commit()
    for contact_id in report.contacts:
        with Session(engine, expire_on_commit=False) as session:
            contact = session.get(Contact, contact_id)
            if contact is None or is_purged(session, "contact", contact_id):
                continue
            report.counts.add(
                purge_contact(session, contact, scrubber_for(session, contact_id), cause="retention")
            )
            session.commit()
    if report.tickets or report.contacts:
        with Session(engine) as session:
            write_audit(
                session,
                actor_id=None,
                action="retention.run",
                object_type="system",
                object_id="retention",
                detail={"today": today.isoformat(), **report.counts.as_dict()},
            )
            session.commit()
    report.files_deleted = sweep_purged_files(engine, data_dir)
    return report


def retention_job() -> None:
    """Periodic job: purge what is due today (JST); cheap when nothing is due."""
    from config.runtime import get_runtime

    runtime = get_runtime()
    report = run_retention(runtime.engine, runtime.settings.data_dir)
    if report.tickets or report.contacts or report.files_deleted:
        log.info("retention: %s", report.counts.as_dict())


def ensure_no_pending(session: Session, external_ids: Sequence[str]) -> bool:
    """True when no inbound event of these identities is still waiting to be applied."""
    if not external_ids:
        return True
    pending = session.exec(
        select(func.count())
        .select_from(InboundEvent)
        .where(col(InboundEvent.sender).in_(external_ids), InboundEvent.status == InboundEventStatus.PENDING)
    ).one()
    return int(pending) == 0
