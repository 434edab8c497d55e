"""Queueing-theory references: M/M/1, Erlang C, Allen–Cunneen, and the pooled hall hour by hour.

The pooled hall's reference treats the hall as one M/G/c queue with ``c = windows``, Poisson
arrivals at each hour's rate and the hall's service-time mixture. Per hour the stationary Erlang C
wait with the Allen–Cunneen correction ``(ca² + cs²) / 2`` is reported. But a hall at its peak is
often overloaded (ρ ≥ 1), where the stationary formula has no value, and a backlog built in one
hour is still waited out in the next. So the headline number carries the hourly rates through
Erlang's own birth–death model (M(t)/M/c, the model behind Erlang C) solved in time from an empty
hall at opening. Its wait splits into the deterministic backlog (the fluid queue, which does not
depend on the service-time distribution) and the random part above it, which the Allen–Cunneen
factor scales; in an underloaded hour that has settled this is exactly the per-hour formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from onewindow.simulation.scenario import Scenario


def mm1_wait(arrival_rate: float, service_rate: float) -> float:
    """Mean wait in queue of an M/M/1 queue: ρ / (μ − λ); infinite when ρ ≥ 1."""
    if arrival_rate >= service_rate:
        return math.inf
    return arrival_rate / (service_rate * (service_rate - arrival_rate))


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability of waiting in an M/M/c queue (Erlang C); 1 when the load reaches the servers."""
    if offered_load >= servers:
        return 1.0
    if offered_load <= 0:
        return 0.0
    blocking = 1.0  # Erlang B by its stable recursion
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    rho = offered_load / servers
    return blocking / (1 - rho * (1 - blocking))


def allen_cunneen_wait(arrival_rate: float, mean_service: float, service_scv: float, servers: int,
                       arrival_scv: float = 1.0) -> float:
    """Mean wait in a G/G/c queue: Erlang C wait × (ca² + cs²) / 2; infinite when ρ ≥ 1."""
    load = arrival_rate * mean_service
    if load >= servers:
        return math.inf
    return erlang_c(servers, load) * mean_service / (servers - load) * (arrival_scv + service_scv) / 2


@dataclass(frozen=True, slots=True)
class HourReference:
    """Theory for one opening hour of the pooled hall."""

    hour: str
    arrivals_per_hour: float
    utilization: float
    erlang_c: float
    stationary_wait_min: float | None  # None when the hour is overloaded
    wait_min: float  # carried through the day (see the module doc)


@dataclass(frozen=True, slots=True)
class HallReference:
    """Theory for the pooled hall: headline mean wait and the hours behind it."""

    mean_wait_min: float
    mean_service_min: float
    service_scv: float
    servers: int
    hours: tuple[HourReference, ...]


def pooled_service_moments(scenario: Scenario) -> tuple[float, float]:
    """Mean and squared coefficient of variation of a ticket's service time in the pooled hall.

    The category mixture of lognormals, each slowed by the generalist factor outside the window's
    home; under first come first served a ticket meets a window of its own home about as often as
    such windows make up the hall.
    """
    homes = scenario.home_layout()
    total = scenario.daily_tickets
    first = second = 0.0
    for c in scenario.categories:
        if c.daily_tickets <= 0:
            continue
        share = c.daily_tickets / total
        home_share = homes.count(c.code) / len(homes)
        factor = home_share + (1 - home_share) * scenario.generalist_service_factor
        factor2 = home_share + (1 - home_share) * scenario.generalist_service_factor ** 2
        first += share * c.service_minutes_mean * factor
        second += share * c.service_minutes_mean ** 2 * (1 + c.service_cv ** 2) * factor2
    return first, second / first ** 2 - 1


def pooled_reference(scenario: Scenario, *, step_min: float = 0.05) -> HallReference:
    """Mean wait of the pooled hall by queueing theory (Erlang C per hour, Allen–Cunneen, carried)."""
    mean_s, scv = pooled_service_moments(scenario)
    c = scenario.windows
    mu = 1.0 / mean_s
    ac = (1.0 + scv) / 2
    total_weight = sum(w for _, _, w in scenario.hour_weights)
    daily = scenario.daily_tickets
    rates = [(start, end, daily * w / total_weight / (end - start)) for start, end, w in scenario.hour_weights]

    peak = max(r for _, _, r in rates) * mean_s
    size = c + int(max(200, 40 * math.sqrt(daily) + 2 * max(0.0, peak - c) * scenario.open_minutes / mean_s))
    states = np.arange(size)
    departures = np.minimum(states, c) * mu
    # wait of an arrival who finds n in the hall (FIFO): 0 below c, (n − c + 1) / (c μ) from c on
    wait_if_arriving = np.maximum(states - c + 1, 0) / (c * mu)
    p = np.zeros(size)
    p[0] = 1.0
    backlog = 0.0  # fluid queue (tickets) carried from hour to hour

    def advance(p: np.ndarray, backlog: float, rate: float, minutes: float) -> tuple[np.ndarray, float, float]:
        steps = max(1, math.ceil(minutes / step_min), math.ceil(minutes * (rate + c * mu) / 0.9))
        dt = minutes / steps  # dt × (largest rate) < 1 keeps the explicit scheme stable
        wait_sum = 0.0
        for _ in range(steps):
            random_wait = float(p @ wait_if_arriving)
            fluid_wait = backlog / (c * mu)
            wait_sum += fluid_wait + ac * max(0.0, random_wait - fluid_wait)
            flow_in = np.empty_like(p)
            flow_in[0] = 0.0
            flow_in[1:] = rate * p[:-1]
            flow_back = np.zeros_like(p)
            flow_back[:-1] = departures[1:] * p[1:]
            out = (rate + departures) * p
            out[-1] = departures[-1] * p[-1]  # the last state takes no more arrivals (truncation)
            p = p + dt * (flow_in + flow_back - out)
            backlog = max(0.0, backlog + dt * (rate - c * mu))
        return p, backlog, wait_sum / steps

    hours: list[HourReference] = []
    clock = scenario.open_min
    weighted = 0.0
    for start, end, rate in rates:
        if start > clock:
            p, backlog, _ = advance(p, backlog, 0.0, start - clock)
        p, backlog, mean_wait = advance(p, backlog, rate, end - start)
        clock = end
        load = rate * mean_s
        stationary = allen_cunneen_wait(rate, mean_s, scv, c)
        hours.append(HourReference(
            hour=f"{int(start // 60):02d}", arrivals_per_hour=rate * 60, utilization=load / c,
            erlang_c=erlang_c(c, load), stationary_wait_min=None if math.isinf(stationary) else stationary,
            wait_min=mean_wait))
        weighted += rate * (end - start) * mean_wait
    arrivals = sum(r * (e - s) for s, e, r in rates)
    return HallReference(mean_wait_min=weighted / arrivals, mean_service_min=mean_s, service_scv=scv,
                         servers=c, hours=tuple(hours))
