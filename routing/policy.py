"""The routing policy: which counselor gets which ticket. Pure: no database, Redis or web imports.

Inputs are frozen snapshots (:class:`AgentView`, :class:`TicketView`) plus ``now``; outputs are
:class:`Assign` or :class:`Hold`. The service (``routing.service``), the simulator (``routing.sim``)
and the benchmark all drive these same functions.

Priority of a waiting ticket (:func:`ticket_priority`), in "seconds of effective waiting"::

    score = waited_seconds
          + SERIOUS_ACCIDENT_BONUS  (4 h)   if 重大事故等 is suspected
          + SPECIAL_CONSIDERATION_BONUS (30 min) if the consumer needs special consideration
                                               (高齢者・障害者等, 施行規則 第五条)
          + ticket.priority * PRIORITY_STEP (60 s per manual priority point)

A serious-accident ticket therefore goes before every ordinary ticket that has waited less than four
hours longer, and a 第五条 consumer before those that waited less than 30 minutes longer. The bonuses
are finite, so age eventually wins: nothing starves, whatever keeps arriving.

Channel capacity: a counselor has a capacity per channel (e.g. ``{"voice": 1, "line": 3, "email": 5}``)
and a load per channel (offers pending + tickets held). A ticket on channel ``c`` needs
``load[c] < capacity[c]``; a counselor on a call (load on an exclusive channel, voice) gets nothing new
on any channel: a call blocks chats.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from crm.messaging import ChannelKind, capabilities_of

if TYPE_CHECKING:
    from routing.pool import AgentPool

SERIOUS_ACCIDENT_BONUS = 4 * 3600.0
SPECIAL_CONSIDERATION_BONUS = 30 * 60.0
PRIORITY_STEP = 60.0
# Channels where one conversation blocks all others (a call): a capability, not a name check.
EXCLUSIVE_CHANNELS = frozenset(k.value for k in ChannelKind if capabilities_of(k).exclusive)
SKILL_RELAX_AFTER = timedelta(minutes=15)
RARE_SKILL_BONUS = 5 * 60.0  # agent-side choice: a rare-skill ticket counts as 5 min older
AVAILABLE = "available"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class AgentView:
    """A counselor as routing sees them at one instant."""

    id: int
    center_id: int | None
    status: str = AVAILABLE
    skills: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset({"ja"})
    qualifications: frozenset[str] = frozenset()
    capacity: Mapping[str, int] = field(default_factory=dict)
    load: Mapping[str, int] = field(default_factory=dict)
    idle_since: datetime | None = None  # last assignment (or last time work ended); None = never
    consecutive_missed: int = 0

    def free_on(self, channel: str) -> bool:
        """True if a new ticket on ``channel`` fits: capacity left and not on an exclusive call."""
        if any(self.load.get(ch, 0) > 0 for ch in EXCLUSIVE_CHANNELS):
            return False
        return self.load.get(channel, 0) < self.capacity.get(channel, 0)

    @property
    def busy_count(self) -> int:
        return sum(self.load.values())


@dataclass(frozen=True)
class TicketView:
    """A waiting ticket as routing sees it."""

    id: int
    center_id: int
    channel: str
    waiting_since: datetime
    language: str = "ja"
    required_skills: frozenset[str] = frozenset()
    qualification_required: bool = False
    serious_accident: bool = False
    special_consideration: bool = False
    priority: int = 0


@dataclass(frozen=True)
class Assign:
    agent_id: int
    reason: str


@dataclass(frozen=True)
class Hold:
    reason: str


Decision = Assign | Hold


def ticket_priority(ticket: TicketView, now: datetime) -> float:
    """The ticket's effective waiting time in seconds (higher goes first); formula in the module doc."""
    score = max(0.0, (now - ticket.waiting_since).total_seconds())
    if ticket.serious_accident:
        score += SERIOUS_ACCIDENT_BONUS
    if ticket.special_consideration:
        score += SPECIAL_CONSIDERATION_BONUS
    return score + ticket.priority * PRIORITY_STEP


def priority_order(tickets: Iterable[TicketView], now: datetime) -> list[TicketView]:
    """Tickets in the order they should be served: highest priority, then oldest, then lowest id."""
    return sorted(tickets, key=lambda t: (-ticket_priority(t, now), t.waiting_since, t.id))


def skills_relaxed(
    ticket: TicketView, now: datetime, relax_after: timedelta | None = SKILL_RELAX_AFTER
) -> bool:
    """After ``relax_after`` in the queue, required skills become preferences (language and
    qualification stay hard requirements), so a ticket nobody specialised is online for still gets served."""
    return relax_after is not None and now - ticket.waiting_since >= relax_after


def is_eligible(agent: AgentView, ticket: TicketView, *, relaxed: bool = False) -> bool:
    """The hard guards: available, same center, channel capacity free, skills/language/qualification."""
    if agent.status != AVAILABLE or agent.center_id != ticket.center_id:
        return False
    if not agent.free_on(ticket.channel):
        return False
    if ticket.language not in agent.languages:
        return False
    if ticket.qualification_required and not agent.qualifications:
        return False
    return relaxed or ticket.required_skills <= agent.skills


def _rank(agent: AgentView, ticket: TicketView) -> tuple[int, int, int, datetime, int]:
    missing = len(ticket.required_skills - agent.skills)
    extra = len(agent.skills - ticket.required_skills)
    idle = agent.idle_since or _EPOCH
    return (missing, extra, agent.busy_count, idle, agent.id)


def choose_counselor(
    ticket: TicketView,
    agents: AgentPool | Iterable[AgentView],
    now: datetime,
    exclude: frozenset[int] = frozenset(),
    *,
    relax_after: timedelta | None = SKILL_RELAX_AFTER,
    blocked: frozenset[int] = frozenset(),
) -> Decision:
    """Pick the counselor to offer ``ticket`` to. Precedence, one guard per line:

    1. eligible: status available, same center, free capacity on the ticket's channel (a call blocks
       everything else), speaks the ticket's language, holds a qualification if one is required, has
       every required skill (relaxed to "preferred" after ``relax_after`` in the queue), and is not
       ``blocked`` (passed on this very ticket less than the re-offer delay ago);
    2. has not declined / let this ticket time out (``exclude``), unless every eligible counselor has;
    3. best skill match: fewest required skills missing, then fewest skills beyond those required
       (keeps versatile counselors free for the tickets only they can take);
    4. least busy: fewest tickets and offers held across channels;
    5. longest idle: earliest ``idle_since`` (never assigned counts as idle forever);
    6. lowest id.

    No randomness: the same inputs always give the same answer.
    """
    relaxed = skills_relaxed(ticket, now, relax_after)
    if not isinstance(agents, Iterable):  # an AgentPool (routing.pool): the indexed fast path
        fresh, first = agents.first_specialist(ticket, exclude, blocked)
        if fresh is not None:  # no candidate ranks before an eligible specialist who has not passed
            return _assign(fresh, ticket, "")
        if not relaxed:
            if first is None:
                return Hold("no eligible counselor with free capacity")
            return _assign(first, ticket, NEW_ROUND)
        pool: Iterable[AgentView] = agents.candidates(ticket, relaxed=True)
    else:
        pool = agents
    return reference_choice(ticket, pool, exclude, relaxed=relaxed, blocked=blocked)


NEW_ROUND = "; every eligible counselor had passed, new round"


def reference_choice(
    ticket: TicketView,
    agents: Iterable[AgentView],
    exclude: frozenset[int] = frozenset(),
    *,
    relaxed: bool,
    blocked: frozenset[int] = frozenset(),
) -> Decision:
    """The precedence of :func:`choose_counselor` as a plain scan over every counselor: the
    reference the indexed fast path (:mod:`routing.pool`) must agree with."""
    candidates = [a for a in agents if a.id not in blocked and is_eligible(a, ticket, relaxed=relaxed)]
    if not candidates:
        return Hold("no eligible counselor with free capacity")
    fresh = [a for a in candidates if a.id not in exclude]
    note = "" if fresh else NEW_ROUND  # everyone eligible has passed on it: start a new round
    best = min(fresh or candidates, key=lambda a: _rank(a, ticket))
    return _assign(best, ticket, note)


def _assign(agent: AgentView, ticket: TicketView, note: str) -> Assign:
    rank = _rank(agent, ticket)
    return Assign(agent.id, f"skill fit (missing {rank[0]}, extra {rank[1]}), load {rank[2]}{note}")


def choose_ticket(
    agent: AgentView,
    tickets: Iterable[TicketView],
    now: datetime,
    *,
    relax_after: timedelta | None = SKILL_RELAX_AFTER,
    rare_skills: frozenset[str] = frozenset(),
) -> TicketView | None:
    """The highest-priority waiting ticket this counselor may take (agent-side decision).

    ``rare_skills`` (see :func:`rare_skills`): a ticket needing one of them counts as having waited
    ``RARE_SKILL_BONUS`` longer, so a versatile counselor serves the work only few can take before
    work anyone could take (per-skill priority with aging: a common ticket that has waited that
    much longer still goes first, so nothing starves)."""
    best: tuple[float, datetime, int] | None = None
    chosen = None
    for t in tickets:
        if not is_eligible(agent, t, relaxed=skills_relaxed(t, now, relax_after)):
            continue
        bonus = RARE_SKILL_BONUS if rare_skills and t.required_skills & rare_skills else 0.0
        key = (-(ticket_priority(t, now) + bonus), t.waiting_since, t.id)
        if best is None or key < best:
            best, chosen = key, t
    return chosen


def rare_skills(agents: Iterable[AgentView]) -> frozenset[str]:
    """Skills held by fewer than half of these counselors (the work few can take)."""
    holders: dict[str, int] = {}
    total = 0
    for a in agents:
        total += 1
        for skill in a.skills:
            holders[skill] = holders.get(skill, 0) + 1
    return frozenset(s for s, n in holders.items() if 2 * n < total)


def plan_assignments(
    tickets: Iterable[TicketView],
    agents: AgentPool | Iterable[AgentView],
    now: datetime,
    exclude: Mapping[int, frozenset[int]] | None = None,
    blocked: Mapping[int, frozenset[int]] | None = None,
) -> list[tuple[TicketView, Decision]]:
    """Walk ``tickets`` in priority order and choose a counselor for each, charging each choice to
    that counselor's load so later tickets see the capacity already taken (dispatch, rebalance, sim)."""
    from routing.pool import AgentPool  # the pool builds on this module's types

    pool = agents.copy() if isinstance(agents, AgentPool) else AgentPool(agents)
    plan: list[tuple[TicketView, Decision]] = []
    for ticket in priority_order(tickets, now):
        decision = choose_counselor(
            ticket,
            pool,
            now,
            (exclude or {}).get(ticket.id, frozenset()),
            blocked=(blocked or {}).get(ticket.id, frozenset()),
        )
        plan.append((ticket, decision))
        if isinstance(decision, Assign):
            pool.charge(decision.agent_id, ticket.channel, now)
    return plan
