"""The routing policy as tables: same inputs, same answer, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from routing.policy import (
    AgentView,
    Assign,
    Hold,
    TicketView,
    choose_counselor,
    choose_ticket,
    plan_assignments,
    priority_order,
    ticket_priority,
)
from routing.pool import AgentPool

NOW = datetime(2026, 4, 6, 10, 0, tzinfo=UTC)
CAP = {"voice": 1, "line": 3, "email": 5}


def agent(i: int, **kw: object) -> AgentView:
    base: dict[str, object] = {"id": i, "center_id": 1, "capacity": CAP, "skills": frozenset()}
    base.update(kw)
    return AgentView(**base)  # type: ignore[arg-type]


def ticket(i: int = 100, **kw: object) -> TicketView:
    base: dict[str, object] = {
        "id": i,
        "center_id": 1,
        "channel": "line",
        "waiting_since": NOW - timedelta(seconds=30),
    }
    base.update(kw)
    return TicketView(**base)  # type: ignore[arg-type]


S = frozenset


@pytest.mark.parametrize(
    ("case", "agents", "tkt", "expected"),
    [
        ("only available counselors", [agent(1, status="break"), agent(2)], ticket(), 2),
        ("same center only", [agent(1, center_id=2), agent(2)], ticket(), 2),
        ("channel capacity full", [agent(1, load={"line": 3}), agent(2, load={"line": 2})], ticket(), 2),
        ("a call blocks chats", [agent(1, load={"voice": 1}), agent(2, load={"line": 2})], ticket(), 2),
        ("no capacity on channel", [agent(1, capacity={"line": 0, "email": 5}), agent(2)], ticket(), 2),
        ("language", [agent(1), agent(2, languages=S({"ja", "en"}))], ticket(language="en"), 2),
        (
            "qualification",
            [agent(1), agent(2, qualifications=S({"消費生活相談員"}))],
            ticket(qualification_required=True),
            2,
        ),
        (
            "required skill",
            [agent(1, skills=S({"不動産"})), agent(2, skills=S({"金融・保険"}))],
            ticket(required_skills=S({"金融・保険"})),
            2,
        ),
        (
            "best fit keeps generalists free",
            [agent(1, skills=S({"金融・保険", "不動産", "越境取引"})), agent(2, skills=S({"金融・保険"}))],
            ticket(required_skills=S({"金融・保険"})),
            2,
        ),
        ("least busy", [agent(1, load={"email": 2}), agent(2, load={"email": 1})], ticket(), 2),
        (
            "longest idle",
            [
                agent(1, idle_since=NOW - timedelta(minutes=1)),
                agent(2, idle_since=NOW - timedelta(minutes=9)),
            ],
            ticket(),
            2,
        ),
        (
            "never assigned counts as idlest",
            [agent(1, idle_since=NOW - timedelta(hours=3)), agent(2)],
            ticket(),
            2,
        ),
        ("lowest id breaks ties", [agent(3), agent(2)], ticket(), 2),
    ],
)
def test_choose_counselor_precedence(
    case: str, agents: list[AgentView], tkt: TicketView, expected: int
) -> None:
    decision = choose_counselor(tkt, agents, NOW)
    assert isinstance(decision, Assign), case
    assert decision.agent_id == expected, case


@pytest.mark.parametrize(
    ("case", "agents", "tkt"),
    [
        ("nobody online", [agent(1, status="offline")], ticket()),
        ("all full", [agent(1, load={"line": 3})], ticket()),
        ("nobody speaks the language", [agent(1)], ticket(language="zh")),
        ("voice needs voice capacity", [agent(1, capacity={"line": 3})], ticket(channel="voice")),
        ("other center", [agent(1, center_id=9)], ticket()),
    ],
)
def test_hold_when_nobody_fits(case: str, agents: list[AgentView], tkt: TicketView) -> None:
    assert isinstance(choose_counselor(tkt, agents, NOW), Hold), case


def test_declined_counselor_is_skipped_until_everyone_has_declined() -> None:
    agents = [agent(1), agent(2)]
    first = choose_counselor(ticket(), agents, NOW, exclude=frozenset({1}))
    assert first == Assign(2, first.reason)  # type: ignore[union-attr]
    again = choose_counselor(ticket(), agents, NOW, exclude=frozenset({1, 2}))
    assert isinstance(again, Assign) and again.agent_id == 1 and "new round" in again.reason


def test_missing_skill_is_relaxed_after_long_wait_but_language_is_not() -> None:
    agents = [agent(1, skills=S({"不動産"}))]
    fresh = ticket(required_skills=S({"越境取引"}))
    old = ticket(required_skills=S({"越境取引"}), waiting_since=NOW - timedelta(minutes=20))
    assert isinstance(choose_counselor(fresh, agents, NOW), Hold)
    assert isinstance(choose_counselor(old, agents, NOW), Assign)
    assert isinstance(
        choose_counselor(ticket(language="en", waiting_since=NOW - timedelta(hours=2)), agents, NOW), Hold
    )


def test_priority_serious_then_special_then_age() -> None:
    normal_old = ticket(1, waiting_since=NOW - timedelta(minutes=10))
    special = ticket(2, special_consideration=True, waiting_since=NOW - timedelta(minutes=1))
    serious = ticket(3, serious_accident=True, waiting_since=NOW)
    assert [t.id for t in priority_order([normal_old, special, serious], NOW)] == [3, 2, 1]


def test_aging_means_nothing_starves() -> None:
    very_old = ticket(1, waiting_since=NOW - timedelta(minutes=45))
    special_new = ticket(2, special_consideration=True, waiting_since=NOW)
    assert ticket_priority(very_old, NOW) > ticket_priority(special_new, NOW)
    ancient = ticket(3, waiting_since=NOW - timedelta(hours=5))
    serious_new = ticket(4, serious_accident=True, waiting_since=NOW)
    assert priority_order([serious_new, ancient], NOW)[0].id == 3


def test_choice_is_deterministic_and_order_independent() -> None:
    agents = [agent(i, idle_since=NOW - timedelta(seconds=i % 7)) for i in range(1, 40)]
    first = choose_counselor(ticket(), agents, NOW)
    assert all(choose_counselor(ticket(), list(reversed(agents)), NOW) == first for _ in range(5))


def test_plan_assignments_charges_capacity_in_priority_order() -> None:
    agents = [agent(1, capacity={"voice": 1})]
    calls = [
        ticket(10, channel="voice", waiting_since=NOW - timedelta(seconds=5)),
        ticket(11, channel="voice", serious_accident=True, waiting_since=NOW),
    ]
    plan = plan_assignments(calls, agents, NOW)
    assert [(t.id, type(d).__name__) for t, d in plan] == [(11, "Assign"), (10, "Hold")]


def test_plan_spreads_chats_by_load() -> None:
    agents = [agent(1), agent(2)]
    plan = plan_assignments(
        [ticket(i, waiting_since=NOW - timedelta(seconds=i)) for i in range(10, 16)], agents, NOW
    )
    chosen = [d.agent_id for _, d in plan if isinstance(d, Assign)]
    assert sorted(chosen) == [1, 1, 1, 2, 2, 2]  # 3 line chats each, then full


def test_agent_side_choice_takes_highest_priority_eligible_ticket() -> None:
    me = agent(1, skills=S({"不動産"}))
    tickets = [
        ticket(1, required_skills=S({"金融・保険"}), waiting_since=NOW - timedelta(minutes=5)),
        ticket(2, required_skills=S({"不動産"}), waiting_since=NOW - timedelta(minutes=2)),
        ticket(3, waiting_since=NOW - timedelta(minutes=1), special_consideration=True),
    ]
    assert choose_ticket(me, tickets, NOW).id == 3  # type: ignore[union-attr]
    assert choose_ticket(me, tickets[:2], NOW).id == 2  # type: ignore[union-attr]


def test_pool_index_matches_full_scan() -> None:
    skills = ["金融・保険", "不動産", "越境取引", "情報通信"]
    agents = [
        agent(
            i,
            center_id=i % 3,
            skills=S({skills[i % 4], skills[(i * 7) % 4]}),
            load={"line": i % 4},
            idle_since=NOW - timedelta(seconds=i * 13 % 101),
        )
        for i in range(1, 200)
    ]
    pool = AgentPool(agents)
    for c in range(3):
        for s in skills:
            t = ticket(center_id=c, required_skills=S({s}))
            assert choose_counselor(t, pool, NOW) == choose_counselor(t, agents, NOW)
