"""Counselors indexed for O(log n) routing decisions (the fast path of :func:`choose_counselor`).

Per center, per channel (and per center, channel and skill) an ordered list of the counselors who
are available and have free capacity on that channel, keyed by ``(number of skills, busy count,
idle since, id)``. For a counselor holding every required skill, :func:`routing.policy._rank` is
``(0, skills - required, busy, idle, id)``, which sorts exactly like that key; so the first entry
of the rarest required skill's list that passes the remaining guards (language, qualification,
every required skill, not excluded) is the policy's choice. Lists are updated incrementally by
:meth:`AgentPool.put` (bisect), so the simulator and batch dispatch keep them current as load is
charged. Cases the lists cannot decide (a relaxed ticket no specialist can take) fall back to the
reference scan in :mod:`routing.policy`.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from routing.policy import _EPOCH, AVAILABLE, AgentView, TicketView, is_eligible

OrderKey = tuple[int, int, datetime, int]
Bucket = tuple[int | None, str, str | None]  # (center, channel, skill or None for everyone)


def order_key(agent: AgentView) -> OrderKey:
    return (len(agent.skills), agent.busy_count, agent.idle_since or _EPOCH, agent.id)


def _buckets(agent: AgentView) -> list[Bucket]:
    if agent.status != AVAILABLE:
        return []
    out: list[Bucket] = []
    for channel in agent.capacity:
        if agent.free_on(channel):
            out.append((agent.center_id, channel, None))
            out.extend((agent.center_id, channel, s) for s in agent.skills)
    return out


class AgentPool:
    """Counselors indexed by center and skill (candidate sets) and by center, channel and skill
    (ordered lists of those with free capacity), so a decision looks only at plausible candidates.

    Holds frozen :class:`AgentView` snapshots; :meth:`put` replaces one (the sim and
    :func:`routing.policy.plan_assignments` use it to charge load). Only available counselors are indexed.
    """

    def __init__(self, agents: Iterable[AgentView] = ()) -> None:
        self._agents: dict[int, AgentView] = {}
        self._by_center: dict[int | None, set[int]] = {}
        self._by_skill: dict[tuple[int | None, str], set[int]] = {}
        self._ordered: dict[Bucket, list[OrderKey]] = {}
        for a in agents:
            self._agents[a.id] = a
            self._index(a, bulk=True)
        for keys in self._ordered.values():
            keys.sort()

    def __len__(self) -> int:
        return len(self._agents)

    def get(self, agent_id: int) -> AgentView | None:
        return self._agents.get(agent_id)

    def agents(self) -> Sequence[AgentView]:
        return list(self._agents.values())

    def copy(self) -> AgentPool:
        clone = AgentPool()
        clone._agents = dict(self._agents)
        clone._by_center = {k: set(v) for k, v in self._by_center.items()}
        clone._by_skill = {k: set(v) for k, v in self._by_skill.items()}
        clone._ordered = {k: list(v) for k, v in self._ordered.items()}
        return clone

    def put(self, agent: AgentView) -> None:
        """Add or replace a counselor's snapshot."""
        self.remove(agent.id)
        self._agents[agent.id] = agent
        self._index(agent)

    def remove(self, agent_id: int) -> None:
        old = self._agents.pop(agent_id, None)
        if old is None:
            return
        if old.status == AVAILABLE:
            self._by_center.get(old.center_id, set()).discard(agent_id)
            for skill in old.skills:
                self._by_skill.get((old.center_id, skill), set()).discard(agent_id)
        key = order_key(old)
        for bucket in _buckets(old):
            keys = self._ordered[bucket]
            i = bisect_left(keys, key)
            if i < len(keys) and keys[i] == key:
                del keys[i]

    def _index(self, agent: AgentView, *, bulk: bool = False) -> None:
        if agent.status != AVAILABLE:
            return
        self._by_center.setdefault(agent.center_id, set()).add(agent.id)
        for skill in agent.skills:
            self._by_skill.setdefault((agent.center_id, skill), set()).add(agent.id)
        key = order_key(agent)
        for bucket in _buckets(agent):
            keys = self._ordered.setdefault(bucket, [])
            if bulk:
                keys.append(key)
            else:
                insort(keys, key)

    def charge(self, agent_id: int, channel: str, now: datetime) -> None:
        """Record one more ticket on ``channel`` for the counselor (planning only)."""
        a = self._agents[agent_id]
        load = dict(a.load)
        load[channel] = load.get(channel, 0) + 1
        self.put(replace(a, load=load, idle_since=now))

    def candidates(self, ticket: TicketView, *, relaxed: bool = False) -> Iterable[AgentView]:
        """Available counselors of the ticket's center holding its rarest required skill."""
        ids = self._by_center.get(ticket.center_id, set())
        if ticket.required_skills and not relaxed:
            for skill in ticket.required_skills:
                holders = self._by_skill.get((ticket.center_id, skill), set())
                if len(holders) < len(ids):
                    ids = holders
        return [self._agents[i] for i in ids]

    def first_specialist(
        self, ticket: TicketView, exclude: frozenset[int], blocked: frozenset[int] = frozenset()
    ) -> tuple[AgentView | None, AgentView | None]:
        """In policy order, among counselors eligible for ``ticket`` without relaxing its skills:
        (the first not in ``exclude``, the first of all); ``blocked`` counselors are skipped. Walks one ordered list, usually a few entries."""
        bucket: Bucket = (ticket.center_id, ticket.channel, None)
        size = len(self._ordered.get(bucket, ()))
        for skill in ticket.required_skills:  # the rarest required skill's list is the shortest
            n = len(self._ordered.get((ticket.center_id, ticket.channel, skill), ()))
            if n < size:
                bucket, size = (ticket.center_id, ticket.channel, skill), n
        first = None
        for key in self._ordered.get(bucket, ()):
            agent = self._agents[key[3]]
            if agent.id in blocked or not is_eligible(agent, ticket):
                continue
            if agent.id not in exclude:
                return agent, first or agent
            first = first or agent
        return None, first
