"""Policy guards added for ACD work: the re-offer delay (``blocked``) and the rare-skill priority
of the agent-side choice. Pure tables, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from routing.policy import (
    RARE_SKILL_BONUS,
    AgentView,
    Assign,
    Hold,
    TicketView,
    choose_counselor,
    choose_ticket,
    plan_assignments,
    rare_skills,
)
from routing.pool import AgentPool

NOW = datetime(2026, 4, 6, 10, 0, tzinfo=UTC)
CAP = {"voice": 1, "line": 3}
S = frozenset


def agent(i: int, **kw: object) -> AgentView:
    return AgentView(**{"id": i, "center_id": 1, "capacity": CAP, **kw})  # type: ignore[arg-type]


def ticket(i: int = 100, waited: float = 30, **kw: object) -> TicketView:
    base = {"id": i, "center_id": 1, "channel": "line", "waiting_since": NOW - timedelta(seconds=waited)}
    return TicketView(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize("as_pool", [False, True])
def test_blocked_counselor_is_never_chosen_even_in_a_new_round(as_pool: bool) -> None:
    agents = [agent(1), agent(2, load={"line": 2})]
    pool = AgentPool(agents) if as_pool else agents
    # 1 passed long ago (soft exclude), 2 just declined (blocked): 1 gets a new round
    got = choose_counselor(ticket(), pool, NOW, S({1, 2}), blocked=S({2}))
    assert isinstance(got, Assign) and got.agent_id == 1
    # the only counselor just declined: hold, rather than offering it straight back
    only = [agent(1)]
    assert isinstance(
        choose_counselor(ticket(), AgentPool(only) if as_pool else only, NOW, S({1}), blocked=S({1})), Hold
    )


def test_blocked_applies_after_skills_relax_too() -> None:
    agents = [agent(1, skills=S({"不動産"})), agent(2)]
    old = ticket(required_skills=S({"金融・保険"}), waited=3600)  # relaxed: anyone may take it
    got = choose_counselor(old, AgentPool(agents), NOW, blocked=S({1}))
    assert isinstance(got, Assign) and got.agent_id == 2


def test_plan_respects_blocked_per_ticket() -> None:
    plan = plan_assignments(
        [ticket(10), ticket(11, waited=10)], [agent(1), agent(2)], NOW, blocked={10: S({1})}
    )
    chosen = {t.id: d.agent_id for t, d in plan if isinstance(d, Assign)}
    assert chosen[10] == 2


def test_rare_skills_are_those_fewer_than_half_hold() -> None:
    team = [agent(i, skills=S({"general"})) for i in range(1, 6)]
    team += [agent(i, skills=S({"general", "越境取引", "金融・保険"})) for i in range(6, 9)]
    assert rare_skills(team) == S({"越境取引", "金融・保険"})
    assert rare_skills([]) == S()


def test_versatile_counselor_serves_the_rare_skill_first_until_the_common_one_has_aged() -> None:
    me = agent(1, skills=S({"general", "越境取引"}))
    rare = S({"越境取引"})
    cross_border = ticket(1, waited=10, required_skills=S({"越境取引"}))
    common = ticket(2, waited=200, required_skills=S({"general"}))
    assert choose_ticket(me, [common, cross_border], NOW, rare_skills=rare) == cross_border
    assert choose_ticket(me, [common, cross_border], NOW) == common  # plain priority: the oldest
    aged = ticket(3, waited=10 + RARE_SKILL_BONUS + 1, required_skills=S({"general"}))
    assert choose_ticket(me, [aged, cross_border], NOW, rare_skills=rare) == aged  # aging: nothing starves
