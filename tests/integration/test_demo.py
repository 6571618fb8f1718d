"""`madoguchi demo` loads a usable demo once, however often it runs."""

from __future__ import annotations

from sqlmodel import Session, func, select

from config.runtime import Runtime
from crm.accounts import authenticate
from crm.demo import DEMO_PASSWORD, load_demo, read_demo_file
from crm.models import Center, Direction, Message, Ticket, TicketStatus, User
from knowledge.demo import index_demo_knowledge
from knowledge.models import KnowledgeDocument


def _counts(session: Session) -> tuple[int, ...]:
    """Rows the demo loads. Outbound messages are left out: at night (JST) routing answers the open
    consultations after hours, asynchronously, so their number depends on the hour and the load."""
    loaded = tuple(session.exec(select(func.count()).select_from(m)).one() for m in (Center, User, Ticket))
    inbound = select(func.count()).select_from(Message).where(Message.direction == Direction.INBOUND)
    return (*loaded, session.exec(inbound).one())


def test_demo_loads_once_and_its_users_can_log_in(runtime: Runtime) -> None:
    summary = load_demo(runtime.settings, index_knowledge=index_demo_knowledge)
    assert "demo logins" in summary and DEMO_PASSWORD in summary
    with Session(runtime.engine) as session:
        first = _counts(session)
        cases = read_demo_file("cases.jsonl")
        assert first[0] >= 4 and first[1] >= 5 and first[2] == len(cases) >= 200
        closed = session.exec(
            select(func.count()).select_from(Ticket).where(Ticket.status == TicketStatus.CLOSED)
        ).one()
        scenarios = {c["scenario"] for c in cases}
        assert len(cases) - closed == len(scenarios)  # one open consultation per scenario
        counselor = authenticate(session, "tanaka", DEMO_PASSWORD)
        assert counselor.center_id is not None and counselor.skills
        prefectures = {c.prefecture for c in session.exec(select(Center)).all()}
        assert len(prefectures) >= 3
        documents = session.exec(select(func.count()).select_from(KnowledgeDocument)).one()
        assert documents >= closed + len(read_demo_file("references.jsonl"))
    again = load_demo(runtime.settings, index_knowledge=index_demo_knowledge)
    assert "0 past cases added" in again and "0 knowledge documents indexed" in again
    with Session(runtime.engine) as session:
        assert _counts(session) == first
