"""A discrete-event simulator of one center, driving the real routing policy.

Poisson arrivals per skill, exponential or lognormal handling times, exponential patience
(abandonment), and a staffing table of counselor groups with their skills. Every routing decision
goes through :func:`routing.policy.choose_counselor` (a contact arrives: least-skilled counselor
first) and :func:`routing.policy.choose_ticket` (a counselor frees up: highest priority, a rare-skill
contact counting as ``RARE_SKILL_BONUS`` older). The ``round_robin`` strategy is the naive ACD
baseline as ACDs define it (Avaya's "circular" hunt, round robin in most queue products): an
arriving contact goes to the next idle qualified counselor after the last one assigned, in a fixed
cyclic order, whatever their other skills; a counselor who frees up takes the oldest contact she is
qualified for (no rare-skill bonus). Both strategies are work-conserving: a contact never waits
while a counselor qualified for it is idle (``SimReport.idle_while_waiting`` counts violations).
:func:`compare` can also replay the stream on the *pooled* staffing (every counselor holding every
skill): the same-arrivals counterpart of the pooled Erlang C figure. :mod:`routing.skill_bound`
gives the exact optimum any policy can reach under the skill constraint.

The arrival stream (times, skills, handling times, patience) is drawn once from an injected
``random.Random`` and replayed for each strategy (common random numbers), so a comparison between
strategies in the same run is not blurred by sampling noise.

Figures count contacts that arrive after the warm-up: ASA over answered contacts, service level =
answered within T / (answered + abandoned), abandonment rate, counselor occupancy.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from routing.policy import AgentView, Assign, TicketView, choose_counselor, choose_ticket, rare_skills
from routing.pool import AgentPool

BASE = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
CHANNEL = "voice"
STRATEGIES = ("policy", "round_robin")


@dataclass(frozen=True)
class AgentGroup:
    """``count`` counselors with the same skills (one row of the staffing table)."""

    count: int
    skills: frozenset[str]


@dataclass(frozen=True)
class Scenario:
    arrivals_per_hour: Mapping[str, float]  # skill -> Poisson rate
    staffing: Sequence[AgentGroup]
    aht_seconds: float
    service: str = "exponential"  # or "lognormal"
    service_cv: float = 1.0  # coefficient of variation for lognormal
    patience_seconds: float | None = None  # mean of exponential patience; None = nobody abandons
    threshold_seconds: float = 60.0
    hours: float = 100.0
    warmup_hours: float = 2.0


@dataclass
class Stats:
    arrivals: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_in_threshold: int = 0
    total_wait: float = 0.0

    @property
    def asa(self) -> float:
        return self.total_wait / self.answered if self.answered else 0.0

    @property
    def service_level(self) -> float:
        done = self.answered + self.abandoned
        return self.answered_in_threshold / done if done else 1.0

    @property
    def abandonment(self) -> float:
        done = self.answered + self.abandoned
        return self.abandoned / done if done else 0.0

    def summary(self) -> dict[str, float]:
        return {
            "arrivals": self.arrivals,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "asa": self.asa,
            "service_level": self.service_level,
            "abandonment": self.abandonment,
        }


@dataclass
class SimReport:
    strategy: str
    overall: Stats
    per_skill: dict[str, Stats]
    occupancy: float
    decisions: int = 0
    idle_while_waiting: int = 0  # a contact left waiting although a qualified counselor was idle

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            **self.overall.summary(),
            "occupancy": self.occupancy,
            "per_skill": {k: v.summary() for k, v in self.per_skill.items()},
        }


@dataclass(frozen=True)
class Contact:
    id: int
    at: float
    skill: str
    service: float
    patience: float


def draw_contacts(scenario: Scenario, rng: random.Random) -> list[Contact]:
    """The arrival stream: merged Poisson processes per skill, with handling time and patience."""
    horizon = scenario.hours * 3600.0
    contacts: list[tuple[float, str]] = []
    for skill, per_hour in sorted(scenario.arrivals_per_hour.items()):
        rate, t = per_hour / 3600.0, 0.0
        while rate > 0:
            t += rng.expovariate(rate)
            if t >= horizon:
                break
            contacts.append((t, skill))
    contacts.sort()
    out = []
    for i, (t, skill) in enumerate(contacts):
        patience = rng.expovariate(1.0 / scenario.patience_seconds) if scenario.patience_seconds else math.inf
        out.append(Contact(i + 1, t, skill, _service_time(scenario, rng), patience))
    return out


def _service_time(s: Scenario, rng: random.Random) -> float:
    if s.service == "lognormal":
        sigma2 = math.log(1.0 + s.service_cv**2)
        return rng.lognormvariate(math.log(s.aht_seconds) - sigma2 / 2, math.sqrt(sigma2))
    return rng.expovariate(1.0 / s.aht_seconds)


def simulate(scenario: Scenario, rng: random.Random, strategy: str = "policy") -> SimReport:
    """Run one strategy over a freshly drawn arrival stream."""
    return _Run(scenario, draw_contacts(scenario, rng), strategy).run()


def compare(scenario: Scenario, rng: random.Random, *, pooled: bool = False) -> dict[str, SimReport]:
    """Run every strategy over the same arrival stream; with ``pooled``, also the policy on the
    pooled staffing (key ``"pooled"``: every counselor holds every skill, same arrivals)."""
    contacts = draw_contacts(scenario, rng)
    out = {name: _Run(scenario, contacts, name).run() for name in STRATEGIES}
    if pooled:
        out["pooled"] = _Run(pooled_scenario(scenario), contacts, "policy").run()
    return out


def pooled_scenario(scenario: Scenario) -> Scenario:
    """The same scenario with every counselor holding every skill (the pooled bound's staffing)."""
    every = frozenset(scenario.arrivals_per_hour).union(*(g.skills for g in scenario.staffing))
    count = sum(g.count for g in scenario.staffing)
    return replace(scenario, staffing=[AgentGroup(count, every)])


@dataclass
class _Run:
    scenario: Scenario
    contacts: list[Contact]
    strategy: str
    skills_of: dict[int, frozenset[str]] = field(default_factory=dict)
    pool: AgentPool = field(default_factory=AgentPool)
    waiting: dict[str, deque[int]] = field(default_factory=dict)
    state: dict[int, str] = field(default_factory=dict)  # contact id -> waiting|served|abandoned
    events: list[tuple[float, int, str, int]] = field(default_factory=list)
    busy_time: float = 0.0
    rr_next: int = 0
    decisions: int = 0
    rare: frozenset[str] = frozenset()
    idle_while_waiting: int = 0

    def run(self) -> SimReport:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}; use one of {', '.join(STRATEGIES)}")
        agent_id = 0
        for group in self.scenario.staffing:
            for _ in range(group.count):
                agent_id += 1
                self.skills_of[agent_id] = group.skills
                self.pool.put(self._view(agent_id, 0.0))
        self.rare = rare_skills(self.pool.agents())
        self.by_id = {c.id: c for c in self.contacts}
        self.warmup = self.scenario.warmup_hours * 3600.0
        self.horizon = self.scenario.hours * 3600.0
        self.stats = Stats()
        self.per_skill = {s: Stats() for s in self.scenario.arrivals_per_hour}
        seq = 0
        for c in self.contacts:
            self.events.append((c.at, seq, "arrive", c.id))
            seq += 1
        heapq.heapify(self.events)
        self.seq = seq
        while self.events:
            t, _, kind, ref = heapq.heappop(self.events)
            getattr(self, f"_on_{kind}")(t, ref)
        span = max(self.horizon - self.warmup, 1e-9) * max(len(self.skills_of), 1)
        occupancy = self.busy_time / span
        return SimReport(
            self.strategy, self.stats, self.per_skill, occupancy, self.decisions, self.idle_while_waiting
        )

    def _push(self, t: float, kind: str, ref: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (t, self.seq, kind, ref))

    def _view(self, agent_id: int, t: float) -> AgentView:
        return AgentView(
            id=agent_id,
            center_id=1,
            skills=self.skills_of[agent_id],
            capacity={CHANNEL: 1},
            idle_since=BASE + timedelta(seconds=t),
        )

    def _ticket(self, c: Contact) -> TicketView:
        return TicketView(
            id=c.id,
            center_id=1,
            channel=CHANNEL,
            waiting_since=BASE + timedelta(seconds=c.at),
            required_skills=frozenset({c.skill}),
        )

    def _on_arrive(self, t: float, cid: int) -> None:
        c = self.by_id[cid]
        self._count(c, "arrival")
        agent = self._pick_agent(c, t)
        if agent is not None:
            self._start(agent, c, t)
            return
        self.state[cid] = "waiting"
        self.waiting.setdefault(c.skill, deque()).append(cid)
        self.idle_while_waiting += any(c.skill in a.skills for a in self.pool.agents())
        if math.isfinite(c.patience):
            self._push(t + c.patience, "abandon", cid)

    def _pick_agent(self, c: Contact, t: float) -> int | None:
        self.decisions += 1
        if self.strategy == "round_robin":
            ids = sorted(a.id for a in self.pool.candidates(self._ticket(c)) if c.skill in a.skills)
            if not ids:
                return None
            after = [i for i in ids if i > self.rr_next]
            self.rr_next = (after or ids)[0]
            return self.rr_next
        decision = choose_counselor(self._ticket(c), self.pool, BASE + timedelta(seconds=t), relax_after=None)
        return decision.agent_id if isinstance(decision, Assign) else None

    def _start(self, agent_id: int, c: Contact, t: float) -> None:
        self.pool.remove(agent_id)
        self.state[c.id] = "served"
        wait = t - c.at
        self._count(c, "answer", wait)
        end = t + c.service
        self.busy_time += max(0.0, min(end, self.horizon) - max(t, self.warmup))
        self._push(end, "done", agent_id)

    def _on_done(self, t: float, agent_id: int) -> None:
        view = self._view(agent_id, t)
        heads = []
        for skill in view.skills:
            q = self.waiting.get(skill)
            while q and self.state.get(q[0]) != "waiting":
                q.popleft()
            if q:
                heads.append(self._ticket(self.by_id[q[0]]))
        rare = self.rare if self.strategy == "policy" else frozenset()
        at = BASE + timedelta(seconds=t)
        chosen = choose_ticket(view, heads, at, relax_after=None, rare_skills=rare) if heads else None
        if chosen is None:
            self.idle_while_waiting += bool(heads)
            self.pool.put(view)
            return
        self.waiting[next(iter(chosen.required_skills))].popleft()
        self._start(agent_id, self.by_id[chosen.id], t)

    def _on_abandon(self, t: float, cid: int) -> None:
        del t
        if self.state.get(cid) == "waiting":
            self.state[cid] = "abandoned"
            self._count(self.by_id[cid], "abandon")

    def _count(self, c: Contact, what: str, wait: float = 0.0) -> None:
        if c.at < self.warmup:
            return
        for st in (self.stats, self.per_skill[c.skill]):
            if what == "arrival":
                st.arrivals += 1
            elif what == "abandon":
                st.abandoned += 1
            else:
                st.answered += 1
                st.total_wait += wait
                st.answered_in_threshold += wait <= self.scenario.threshold_seconds


def single_skill(arrivals_per_hour: float, aht: float, agents: int, **kw: Any) -> Scenario:
    """An M/M/c (or M/M/c+M with ``patience_seconds``) scenario with one skill."""
    return Scenario({"general": arrivals_per_hour}, [AgentGroup(agents, frozenset({"general"}))], aht, **kw)
