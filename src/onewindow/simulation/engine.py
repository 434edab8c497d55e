"""Discrete-event simulation of a hall, driving the real routing policies of ``onewindow.queue.routing``.

Model
-----
* Arrivals: per opening hour and category, a Poisson number of tickets with mean
  ``daily_tickets × weight / Σ weights``, spread uniformly over the hour (a piecewise-constant
  Poisson process). Everyone who arrives before closing is served, even after closing.
* Service: lognormal with the category's mean and coefficient of variation; a window serving a
  category outside its home takes ``generalist_service_factor`` times as long.
* Policies see only ``expected_service_min`` (the category mean), never the sampled duration.
* Common random numbers: each day's arrivals and base service times come from ``(seed, day)``
  and are the same for every policy, so differences between policies are not sampling noise.
* Dispatch: when a window frees it asks the policy; when a ticket arrives, the idle windows with
  the skill for it ask, in window order. Policies return ``None`` only when the window may serve
  none of the waiting tickets (all four do), so no other moment can change an answer.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from onewindow.queue.routing import RoutingPolicy, WaitingTicket, WindowView, make_policy
from onewindow.queue.states import TicketClass
from onewindow.simulation.scenario import Scenario

POLICY_NAMES: tuple[str, ...] = ("dedicated", "pooled", "smart", "tidal")


@dataclass(frozen=True, slots=True)
class Arrival:
    """One simulated ticket: its routing view and its true base (specialist) service time."""

    ticket: WaitingTicket
    base_service_min: float


@dataclass(slots=True)
class PolicyRun:
    """Raw outcome of one policy over all simulated days."""

    policy: str
    windows: int
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)
    arrival_minutes: list[float] = field(default_factory=list)  # minutes after opening, per served ticket
    categories: list[str] = field(default_factory=list)
    busy_minutes: float = 0.0
    staffed_minutes: float = 0.0

    @property
    def utilization(self) -> float:
        """Busy window time over staffed window time (opening to the last departure each day)."""
        return self.busy_minutes / self.staffed_minutes if self.staffed_minutes else 0.0


def generate_day(scenario: Scenario, seed: int, day: int) -> list[Arrival]:
    """The tickets of one day, sorted by arrival; reproducible from ``(seed, day)``."""
    rng = np.random.default_rng([seed, day])
    total_weight = sum(w for _, _, w in scenario.hour_weights)
    classes = [c for c, _ in scenario.class_mix]
    shares = np.array([s for _, s in scenario.class_mix])
    mixed = len(classes) > 1
    rows: list[tuple[float, str, float, TicketClass, float | None]] = []
    picks: list[int] = []
    lateness: list[float] = []
    for cat in scenario.categories:
        sigma2 = math.log1p(cat.service_cv ** 2)
        mu = math.log(cat.service_minutes_mean) - sigma2 / 2
        for start, end, weight in scenario.hour_weights:
            n = int(rng.poisson(cat.daily_tickets * weight / total_weight))
            if n == 0:
                continue
            times = rng.uniform(start, end, n).tolist()
            services = rng.lognormal(mu, math.sqrt(sigma2), n).tolist()
            if mixed:
                picks = rng.choice(len(classes), size=n, p=shares).tolist()
                lateness = rng.normal(-5.0, scenario.appointment_punctuality_sd_min, n).tolist()
            for j in range(n):
                cls = classes[picks[j]] if mixed else TicketClass.NORMAL
                slot = times[j] - lateness[j] if cls is TicketClass.APPOINTMENT else None
                rows.append((times[j], cat.code, services[j], cls, slot))
    rows.sort(key=lambda r: r[0])
    means = {c.code: c.service_minutes_mean for c in scenario.categories}
    return [Arrival(WaitingTicket(key=f"{day}-{i}", category=code, queued_at=t, expected_service_min=means[code],
                                  ticket_class=cls, appointment_at=slot), service)
            for i, (t, code, service, cls, slot) in enumerate(rows)]


def hall_for(scenario: Scenario, policy: str) -> list[WindowView]:
    """The windows a policy runs on: the dedicated layout, or the shared hall (with 潮汐窗口 for tidal)."""
    if policy == "dedicated":
        return scenario.dedicated_hall()
    return scenario.shared_hall(tidal=policy == "tidal")


def run_day(policy: RoutingPolicy, windows: Sequence[WindowView], arrivals: Sequence[Arrival],
            generalist_factor: float, open_min: float, close_min: float, out: PolicyRun) -> None:
    """Simulate one day of ``policy`` on ``windows``, appending the outcome to ``out``."""
    base = {a.ticket.key: a.base_service_min for a in arrivals}
    homes = [w.home_categories for w in windows]
    skills = [w.skills for w in windows]
    idle: list[int] = list(range(len(windows)))  # kept sorted: window order decides ties
    busy: list[tuple[float, int]] = []  # heap of (end time, window index)
    waiting: list[WaitingTicket] = []
    pick = policy.pick
    last_end = close_min
    i, n = 0, len(arrivals)

    def start(w: int, ticket: WaitingTicket, now: float) -> None:
        nonlocal last_end
        waiting.remove(ticket)
        duration = base[ticket.key]
        if ticket.category not in homes[w]:
            duration *= generalist_factor
        end = now + duration
        heapq.heappush(busy, (end, w))
        last_end = max(last_end, end)
        out.waits.append(now - ticket.queued_at)
        out.services.append(duration)
        out.arrival_minutes.append(ticket.queued_at - open_min)
        out.categories.append(ticket.category)
        out.busy_minutes += duration

    while i < n or busy:
        if busy and (i >= n or busy[0][0] <= arrivals[i].ticket.queued_at):
            now, w = heapq.heappop(busy)
            chosen = pick(windows[w], waiting, now) if waiting else None
            if chosen is None:
                idle.append(w)
                idle.sort()
            else:
                start(w, chosen, now)
            continue
        ticket = arrivals[i].ticket
        now = ticket.queued_at
        i += 1
        waiting.append(ticket)
        for w in [w for w in idle if ticket.category in skills[w]]:
            chosen = pick(windows[w], waiting, now)
            if chosen is not None:
                idle.remove(w)
                start(w, chosen, now)
                if not waiting:
                    break
    out.staffed_minutes += len(windows) * (last_end - open_min)


def simulate_policy(scenario: Scenario, policy_name: str, *, days: int, seed: int,
                    policy: RoutingPolicy | None = None,
                    arrivals_by_day: Sequence[Sequence[Arrival]] | None = None) -> PolicyRun:
    """Run one policy (by name, or an explicit instance) over ``days`` simulated days."""
    windows = hall_for(scenario, policy_name)
    policy = policy or make_policy(policy_name, _default_params(scenario, policy_name))
    out = PolicyRun(policy=policy_name, windows=len(windows))
    for day in range(days):
        arrivals = arrivals_by_day[day] if arrivals_by_day is not None else generate_day(scenario, seed, day)
        run_day(policy, windows, arrivals, scenario.generalist_service_factor, scenario.open_min,
                scenario.close_min, out)
    return out


def simulate(scenario: Scenario, *, days: int, seed: int,
             policies: Sequence[str] = POLICY_NAMES) -> dict[str, PolicyRun]:
    """Run each policy over the same simulated days."""
    arrivals_by_day = [generate_day(scenario, seed, day) for day in range(days)]
    return {name: simulate_policy(scenario, name, days=days, seed=seed, arrivals_by_day=arrivals_by_day)
            for name in policies}


def _default_params(scenario: Scenario, policy_name: str) -> dict[str, float]:
    # The smart policy's expected-time estimate must know the hall's generalist slow-down.
    if policy_name == "smart":
        return {"generalist_factor": scenario.generalist_service_factor}
    return {}
