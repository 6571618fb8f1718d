"""Self-help while waiting (knowledge.self_help): reviewed FAQ entries sent once to a waiting consumer,
through the outbox, marked as general information, the place in the queue kept. Both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from config.runtime import Runtime
from crm.models import Center, Contact, Message, OutboxItem, Ticket, TicketStatus, utcnow
from knowledge.models import SelfHelpSent
from knowledge.self_help import compose, offer_self_help, set_self_help, utf16_len
from knowledge.service import DocumentIn, SearchResult, upsert_documents
from tests.factories import ALWAYS_OPEN, make_center, receive

FAQ = [
    DocumentIn(
        "faq-teiki",
        "faq",
        "定期購入をやめたいとき",
        "お試しのつもりが定期購入だった場合、まず契約内容と解約条件を確認しましょう。",
        fields={"reviewed": True},
    ),
    DocumentIn(
        "faq-teiki-hanbai",
        "faq",
        "通信販売の解約と返品",
        "通信販売にクーリング・オフはありませんが、返品特約を確認してください。定期購入も同じです。",
        fields={"reviewed": True},
    ),
    DocumentIn(  # relevant but nobody reviewed it: never sent
        "faq-draft", "faq", "定期購入の解約 (下書き)", "定期購入 解約 定期購入 解約", fields={}
    ),
    DocumentIn("faq-gomi", "faq", "粗大ごみの出し方", "予約制で収集します。", fields={"reviewed": True}),
]


def _night(session: Session, *, enabled: bool = True) -> Center:
    center = make_center(session, "night", name="夜間テストセンター", hours={}, closed_dates=[])
    if enabled:
        set_self_help(session, center_id=center.id, enabled=True)  # type: ignore[arg-type]
    upsert_documents(session, FAQ)
    session.commit()
    return center


def _sent_to(runtime: Runtime, sender: str) -> list[str]:
    return [s["text"] for s in runtime.adapters["line"].sent() if s["recipient"] == sender]  # type: ignore[index]


def test_after_hours_line_consumer_gets_reviewed_faq_once_and_keeps_place(
    runtime: Runtime, session: Session
) -> None:
    center = _night(session)
    first = receive(session, center, "定期購入を解約したいのに電話がつながらない", sender="Uwait")
    runtime.jobs.drain()
    session.expire_all()
    ticket = session.get(Ticket, first.ticket_id)
    assert ticket is not None
    queued_at = ticket.queued_at
    receive(session, center, "まだですか", sender="Uwait")
    runtime.jobs.drain()
    texts = _sent_to(runtime, "Uwait")
    assert len(texts) == 2, texts  # the after-hours notice and ONE self-help answer
    help_text = next(t for t in texts if "一般的な情報です" in t)
    assert "定期購入をやめたいとき" in help_text and "通信販売の解約と返品" in help_text
    assert "下書き" not in help_text and "粗大ごみ" not in help_text  # unreviewed / irrelevant left out
    assert "順番はそのまま" in help_text
    session.expire_all()
    ticket = session.get(Ticket, first.ticket_id)
    assert ticket is not None and ticket.status == TicketStatus.QUEUED and ticket.queued_at == queued_at
    auto = session.exec(select(Message).where(Message.ticket_id == ticket.id, Message.kind == "auto")).all()
    assert any("一般的な情報です" in m.body for m in auto)  # on the ticket's timeline
    sent = session.exec(select(SelfHelpSent)).all()
    assert len(sent) == 1 and sent[0].reason == "after_hours"
    assert "faq-teiki" in sent[0].doc_ids and "faq-draft" not in sent[0].doc_ids


def test_center_that_did_not_opt_in_sends_nothing(runtime: Runtime, session: Session) -> None:
    center = _night(session, enabled=False)
    receive(session, center, "定期購入を解約したい", sender="Uoff")
    runtime.jobs.drain()
    assert not any("一般的な情報です" in t for t in _sent_to(runtime, "Uoff"))
    assert session.exec(select(SelfHelpSent)).all() == []


def _queued(session: Session, center: Center, channel: str, ahead: int = 0) -> Ticket:
    contact = Contact()
    session.add(contact)
    session.flush()
    t = Ticket(
        center_id=center.id,  # type: ignore[arg-type]
        contact_id=contact.id,  # type: ignore[arg-type]
        channel=channel,
        subject="定期購入を解約したい",
        status=TicketStatus.QUEUED,
        queued_at=utcnow() + timedelta(seconds=ahead),
    )
    session.add(t)
    session.commit()
    return t


def test_never_for_a_voice_ticket(runtime: Runtime, session: Session) -> None:
    center = _night(session)
    call = _queued(session, center, "voice")
    assert offer_self_help(session, ticket_id=call.id, event_kind="after_hours") is None  # type: ignore[arg-type]
    assert session.exec(select(OutboxItem)).all() == []


def test_long_queue_counts_the_place_in_line(runtime: Runtime, session: Session) -> None:
    center = make_center(session, "busy", hours=ALWAYS_OPEN, closed_dates=[])  # open, nobody available
    set_self_help(session, center_id=center.id, enabled=True, min_queue_position=3)  # type: ignore[arg-type]
    upsert_documents(session, FAQ)
    session.commit()
    for sender in ("U1", "U2", "U3"):
        receive(session, center, "定期購入の解約ができません", sender=sender)
        runtime.jobs.drain()
    got = {u: any("一般的な情報です" in t for t in _sent_to(runtime, u)) for u in ("U1", "U2", "U3")}
    assert got == {"U1": False, "U2": False, "U3": True}
    assert [r.reason for r in session.exec(select(SelfHelpSent)).all()] == ["long_queue"]


def test_bad_settings_are_refused_with_the_field_named(runtime: Runtime, session: Session) -> None:
    center = make_center(session, "cfg", hours=ALWAYS_OPEN, closed_dates=[])
    with pytest.raises(ValueError, match="min_queue_position must be between 1 and 1000"):
        set_self_help(session, center_id=center.id, enabled=True, min_queue_position=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="center 999999 does not exist"):
        set_self_help(session, center_id=999999, enabled=True)


def test_message_fits_line_limit_in_utf16_units() -> None:
    big = "🙂" * 4000  # 2 UTF-16 units each: 8,000 units
    entries = [
        SearchResult(f"d{i}", "faq", f"題{i}" + big, "", 1.0, ("x",), None, False, {}) for i in range(3)
    ]
    text = compose(entries, {e.id: big for e in entries}, "ja", 5000)
    assert utf16_len(text) <= 5000
    assert text.startswith("【一般的な情報です】")
