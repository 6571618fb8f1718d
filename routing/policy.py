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

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

SERIOUS_ACCIDENT_BONUS = 4 * 3600.0
SPECIAL_CONSIDERATION_BONUS = 30 * 60.0
PRIORITY_STEP = 60.0
EXCLUSIVE_CHANNELS = frozenset({"voice"})
SKILL_RELAX_AFTER = timedelta(minutes=15)
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
) -> Decision:
    """Pick the counselor to offer ``ticket`` to. Precedence, one guard per line:

    1. eligible: status available, same center, free capacity on the ticket's channel (a call blocks
       everything else), speaks the ticket's language, holds a qualification if one is required, has
       every required skill (relaxed to "preferred" after ``relax_after`` in the queue);
    2. has not declined / let this ticket time out (``exclude``), unless every eligible counselor has;
    3. best skill match: fewest required skills missing, then fewest skills beyond those required
       (keeps versatile counselors free for the tickets only they can take);
    4. least busy: fewest tickets and offers held across channels;
    5. longest idle: earliest ``idle_since`` (never assigned counts as idle forever);
    6. lowest id.

    No randomness: the same inputs always give the same answer.
    """
    pool = agents if isinstance(agents, AgentPool) else AgentPool(agents)
    relaxed = skills_relaxed(ticket, now, relax_after)
    candidates = [
        a for a in pool.candidates(ticket, relaxed=relaxed) if is_eligible(a, ticket, relaxed=relaxed)
    ]
    if not candidates:
        return Hold("no eligible counselor with free capacity")
    fresh = [a for a in candidates if a.id not in exclude]
    if not fresh:
        fresh = candidates  # everyone eligible has passed on it: start a new round
        note = "; every eligible counselor had passed, new round"
    else:
        note = ""
    best = min(fresh, key=lambda a: _rank(a, ticket))
    rank = _rank(best, ticket)
    return Assign(best.id, f"skill fit (missing {rank[0]}, extra {rank[1]}), load {rank[2]}{note}")


def choose_ticket(
    agent: AgentView,
    tickets: Iterable[TicketView],
    now: datetime,
    *,
    relax_after: timedelta | None = SKILL_RELAX_AFTER,
) -> TicketView | None:
    """The highest-priority waiting ticket this counselor may take (agent-side decision)."""
    best: tuple[float, datetime, int] | None = None
    chosen = None
    for t in tickets:
        if not is_eligible(agent, t, relaxed=skills_relaxed(t, now, relax_after)):
            continue
        key = (-ticket_priority(t, now), t.waiting_since, t.id)
        if best is None or key < best:
            best, chosen = key, t
    return chosen


def plan_assignments(
    tickets: Iterable[TicketView],
    agents: AgentPool | Iterable[AgentView],
    now: datetime,
    exclude: Mapping[int, frozenset[int]] | None = None,
) -> list[tuple[TicketView, Decision]]:
    """Walk ``tickets`` in priority order and choose a counselor for each, charging each choice to
    that counselor's load so later tickets see the capacity already taken (dispatch, rebalance, sim)."""
    pool = agents.copy() if isinstance(agents, AgentPool) else AgentPool(agents)
    plan: list[tuple[TicketView, Decision]] = []
    for ticket in priority_order(tickets, now):
        decision = choose_counselor(ticket, pool, now, (exclude or {}).get(ticket.id, frozenset()))
        plan.append((ticket, decision))
        if isinstance(decision, Assign):
            pool.charge(decision.agent_id, ticket.channel, now)
    return plan


class AgentPool:
    """Counselors indexed by center and skill, so a decision looks only at plausible candidates.

    Holds frozen :class:`AgentView` snapshots; :meth:`put` replaces one (the sim and
    :func:`plan_assignments` use it to charge load). Only available counselors are indexed.
    """

    def __init__(self, agents: Iterable[AgentView] = ()) -> None:
        self._agents: dict[int, AgentView] = {}
        self._by_center: dict[int | None, set[int]] = {}
        self._by_skill: dict[tuple[int | None, str], set[int]] = {}
        for a in agents:
            self.put(a)

    def __len__(self) -> int:
        return len(self._agents)

    def get(self, agent_id: int) -> AgentView | None:
        return self._agents.get(agent_id)

    def agents(self) -> Sequence[AgentView]:
        return list(self._agents.values())

    def copy(self) -> AgentPool:
        return AgentPool(self._agents.values())

    def put(self, agent: AgentView) -> None:
        """Add or replace a counselor's snapshot."""
        self.remove(agent.id)
        self._agents[agent.id] = agent
        if agent.status != AVAILABLE:
            return
        self._by_center.setdefault(agent.center_id, set()).add(agent.id)
        for skill in agent.skills:
            self._by_skill.setdefault((agent.center_id, skill), set()).add(agent.id)

    def remove(self, agent_id: int) -> None:
        old = self._agents.pop(agent_id, None)
        if old is None:
            return
        self._by_center.get(old.center_id, set()).discard(agent_id)
        for skill in old.skills:
            self._by_skill.get((old.center_id, skill), set()).discard(agent_id)

    def charge(self, agent_id: int, channel: str, now: datetime) -> None:
        """Record one more ticket on ``channel`` for the counselor (planning only)."""
        a = self._agents[agent_id]
        load = dict(a.load)
        load[channel] = load.get(channel, 0) + 1
        self.put(dataclasses.replace(a, load=load, idle_since=now))

    def candidates(self, ticket: TicketView, *, relaxed: bool = False) -> Iterable[AgentView]:
        """Available counselors of the ticket's center holding its rarest required skill."""
        ids = self._by_center.get(ticket.center_id, set())
        if ticket.required_skills and not relaxed:
            for skill in ticket.required_skills:
                holders = self._by_skill.get((ticket.center_id, skill), set())
                if len(holders) < len(ids):
                    ids = holders
        return [self._agents[i] for i in ids]
