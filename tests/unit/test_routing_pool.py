"""The indexed pool (routing.pool) must choose exactly what the plain reference scan chooses, for
any counselors, tickets, exclusions and load charged along the way (property-based, hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.policy import AgentView, TicketView, choose_counselor, reference_choice, skills_relaxed
from routing.pool import AgentPool

NOW = datetime(2026, 4, 8, 1, 0, tzinfo=UTC)
SKILLS = ["金融・保険", "不動産", "越境取引", "情報通信"]
CHANNELS = ["voice", "line", "email"]

skill_sets = st.frozensets(st.sampled_from(SKILLS), max_size=3)
agents_st = st.lists(
    st.builds(
        dict,
        center_id=st.integers(1, 2),
        status=st.sampled_from(["available", "available", "available", "break"]),
        skills=skill_sets,
        languages=st.sampled_from([frozenset({"ja"}), frozenset({"ja", "en"})]),
        qualifications=st.sampled_from([frozenset(), frozenset({"消費生活相談員"})]),
        capacity=st.fixed_dictionaries({ch: st.integers(0, 3) for ch in CHANNELS}),
        load=st.fixed_dictionaries({ch: st.integers(0, 3) for ch in CHANNELS}),
        idle=st.one_of(st.none(), st.integers(0, 5)),  # few values: many ties on idle_since
    ),
    max_size=40,
)
tickets_st = st.lists(
    st.builds(
        dict,
        center_id=st.integers(1, 2),
        channel=st.sampled_from(CHANNELS),
        waited=st.sampled_from([10, 60, 3600]),  # 3600 s: skills relaxed to preferences
        language=st.sampled_from(["ja", "ja", "en"]),
        required_skills=st.frozensets(st.sampled_from(SKILLS), max_size=2),
        qualification_required=st.booleans(),
    ),
    min_size=1,
    max_size=15,
)


def make_agents(raw: list[dict[str, object]]) -> list[AgentView]:
    out = []
    for i, r in enumerate(raw, start=1):
        idle = r.pop("idle")
        out.append(
            AgentView(
                id=i,
                idle_since=None if idle is None else NOW - timedelta(minutes=idle),  # type: ignore[operator]
                **r,  # type: ignore[arg-type]
            )
        )
    return out


def make_ticket(i: int, r: dict[str, object]) -> TicketView:
    waited = r.pop("waited")
    return TicketView(id=i, waiting_since=NOW - timedelta(seconds=waited), **r)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(raw_agents=agents_st, raw_tickets=tickets_st, data=st.data())
def test_pool_chooses_what_the_reference_scan_chooses(
    raw_agents: list[dict[str, object]], raw_tickets: list[dict[str, object]], data: st.DataObject
) -> None:
    agents = make_agents(raw_agents)
    pool = AgentPool(agents)
    for i, raw in enumerate(raw_tickets):
        t = make_ticket(i, raw)
        ids = [a.id for a in agents]
        exclude = frozenset(data.draw(st.sets(st.sampled_from(ids), max_size=5))) if ids else frozenset()
        expected = reference_choice(t, pool.agents(), exclude, relaxed=skills_relaxed(t, NOW))
        assert choose_counselor(t, pool, NOW, exclude) == expected
        assert choose_counselor(t, pool.agents(), NOW, exclude) == expected
        if hasattr(expected, "agent_id"):  # charge the load, as dispatch and the sim do
            pool.charge(expected.agent_id, t.channel, NOW)  # type: ignore[union-attr]


@settings(max_examples=100, deadline=None)
@given(raw_agents=agents_st, raw_tickets=tickets_st)
def test_copy_is_independent(
    raw_agents: list[dict[str, object]], raw_tickets: list[dict[str, object]]
) -> None:
    pool = AgentPool(make_agents(raw_agents))
    before = [choose_counselor(make_ticket(i, dict(r)), pool, NOW) for i, r in enumerate(raw_tickets)]
    clone = pool.copy()
    for a in clone.agents():
        clone.charge(a.id, "line", NOW)
    assert [choose_counselor(make_ticket(i, dict(r)), pool, NOW) for i, r in enumerate(raw_tickets)] == before
