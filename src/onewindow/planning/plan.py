"""Window plans (排班与潮汐窗口, pure): how many windows of which home category to open each hour.

A plan meets a wait target hour by hour (the mean wait of the tickets that arrive in the hour, and
optionally their 90th percentile) with as few window-hours as it can:

1. **Theory first.** Each hour is inverted as one M/G/c queue (Erlang C with the Allen–Cunneen
   correction, the simulator's reference, ``simulation.theory``): the fewest windows whose
   stationary wait meets the target with a margin. The windows of the hour are split over the home
   categories in proportion to their load (largest remainder).
2. **Then simulation.** The forecast is replayed through the live routing policy
   (``queue.routing``) on windows that open and close on the hour (:func:`run_schedule_day`) over
   ``plan_days`` days drawn from the planner's own seeds. An hour that misses the target gets one
   more window (in the category with the most waiting) until every hour meets it; then each hour in
   turn gives back a window while every hour still meets it, never below the theory count for the
   exact target. A backlog spills into the next hour, so every check looks at the whole day. "Meets"
   is strict: 0.85 × the target on the planner's days, and the mean plus three standard errors (of
   the difference between two 30-day means, from the hour's day-to-day spread) within the target.

Windows are cross-trained as in the simulator's shared hall (一岗多能): each has a home category,
served at specialist speed, and may serve every category (× the generalist factor). The roster
(``roster.py``) then seats qualified staff, and :func:`check_plan` can re-run a plan whose windows
carry only the skills of the people seated there.

Honest measurement: :func:`check_plan` takes its own seed; ``PLAN_SEED_OFFSET`` keeps the planner's
seeds away from the scenario's seed, which the benchmark uses to check.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from onewindow.core.errors import Problem, ValidationFailed
from onewindow.queue.routing import RoutingPolicy, WaitingTicket, WindowKind, WindowView
from onewindow.queue.states import TicketClass
from onewindow.simulation.scenario import Scenario
from onewindow.simulation.theory import allen_cunneen_wait, erlang_c

PLAN_SEED_OFFSET = 7_919_000  # planner seeds = scenario seed + this (+ day): never the checking seeds
MAX_ROUNDS = 60
UNSERVED_WAIT_MIN = 24 * 60.0  # the wait counted for a ticket no window of the plan may serve


@dataclass(frozen=True, slots=True)
class Target:
    """The wait target per hour (minutes): mean, and optionally the 90th percentile."""

    mean_min: float = 15.0
    p90_min: float | None = None


@dataclass(frozen=True, slots=True)
class DayDemand:
    """Expected tickets of one day per opening hour and category: ``tickets[h][code]``.

    ``hours`` are (start, end) minutes since midnight, in order, covering the opening hours.
    """

    hours: tuple[tuple[float, float], ...]
    tickets: tuple[Mapping[str, float], ...]

    @property
    def total(self) -> float:
        """Expected tickets over the day."""
        return sum(sum(t.values()) for t in self.tickets)

    def key(self) -> tuple[tuple[tuple[str, float], ...], ...]:
        """Hashable identity, so equal days are planned once."""
        return tuple(tuple(sorted((c, round(v, 6)) for c, v in t.items())) for t in self.tickets)


@dataclass(frozen=True, slots=True)
class HourCheck:
    """Simulated waits of the tickets that arrived in one hour."""

    hour: str
    arrivals: float  # per day
    windows: int
    mean_wait_min: float
    p90_wait_min: float
    met: bool


@dataclass(frozen=True, slots=True)
class DayPlan:
    """Windows per hour and home category, and how it fared in simulation."""

    hours: tuple[tuple[float, float], ...]
    windows: tuple[Mapping[str, int], ...]  # per hour: home category → open windows
    theory_windows: tuple[int, ...]  # per hour, the queueing-theory starting point
    checks: tuple[HourCheck, ...] = ()

    @property
    def window_hours(self) -> float:
        """Σ over hours of open windows × hour length in hours."""
        return sum(sum(w.values()) * (end - start) / 60 for w, (start, end) in zip(self.windows, self.hours,
                                                                                      strict=True))

    @property
    def met(self) -> bool:
        """True when every checked hour met the target."""
        return all(c.met for c in self.checks)

    def totals(self) -> list[int]:
        """Open windows per hour."""
        return [sum(w.values()) for w in self.windows]


@dataclass(slots=True)
class _Outcome:
    waits: list[list[float]] = field(default_factory=list)  # per hour
    day_means: list[list[float]] = field(default_factory=list)  # per hour, the mean wait of each day
    day_p90s: list[list[float]] = field(default_factory=list)  # per hour, the 90th percentile of each day
    by_category: list[dict[str, list[float]]] = field(default_factory=list)


def hour_label(start: float) -> str:
    """``"09"`` for an hour starting at 09:00."""
    return f"{int(start // 60):02d}"


def scenario_demand(scenario: Scenario, factor: float = 1.0) -> DayDemand:
    """The expected tickets of a scenario's day (× ``factor``), by opening hour and category."""
    total_weight = sum(w for _, _, w in scenario.hour_weights)
    hours = tuple((s, e) for s, e, _ in scenario.hour_weights)
    tickets = tuple({c.code: c.daily_tickets * w / total_weight * factor for c in scenario.categories}
                    for _, _, w in scenario.hour_weights)
    return DayDemand(hours=hours, tickets=tickets)


# ----- theory ----------------------------------------------------------------------------------------------

def _moments(scenario: Scenario, tickets: Mapping[str, float]) -> tuple[float, float]:
    means = {c.code: c for c in scenario.categories}
    total = sum(tickets.values())
    first = second = 0.0
    for code, n in tickets.items():
        if n <= 0:
            continue
        c = means[code]
        share = n / total
        first += share * c.service_minutes_mean
        second += share * c.service_minutes_mean ** 2 * (1 + c.service_cv ** 2)
    return first, second / first ** 2 - 1


def p90_wait(arrival_rate: float, mean_service: float, service_scv: float, servers: int) -> float:
    """90th percentile of the wait in an M/G/c queue (M/M/c tail, scaled like Allen–Cunneen)."""
    load = arrival_rate * mean_service
    if load >= servers:
        return math.inf
    waiting = erlang_c(servers, load)
    if waiting <= 0.1:
        return 0.0
    return math.log(waiting / 0.1) * mean_service / (servers - load) * (1 + service_scv) / 2


def theory_windows(scenario: Scenario, tickets: Mapping[str, float], minutes: float, target: Target,
                   margin: float = 0.8) -> int:
    """Fewest windows whose stationary Allen–Cunneen wait meets ``margin`` × the target in this hour."""
    total = sum(tickets.values())
    if total <= 0:
        return 0
    mean_s, scv = _moments(scenario, tickets)
    rate = total / minutes
    c = max(1, math.ceil(rate * mean_s))
    while True:
        ok = allen_cunneen_wait(rate, mean_s, scv, c) <= margin * target.mean_min
        if ok and target.p90_min is not None:
            ok = p90_wait(rate, mean_s, scv, c) <= margin * target.p90_min
        if ok:
            return c
        c += 1


def split_by_load(scenario: Scenario, tickets: Mapping[str, float], windows: int) -> dict[str, int]:
    """``windows`` home windows over the categories in proportion to their load (largest remainder)."""
    means = {c.code: c.service_minutes_mean for c in scenario.categories}
    load = {code: tickets.get(code, 0.0) * means[code] for code in means}
    total = sum(load.values())
    if windows <= 0 or total <= 0:
        return {code: 0 for code in means}
    quotas = {code: windows * v / total for code, v in load.items()}
    counts = {code: math.floor(q) for code, q in quotas.items()}
    for code in sorted(quotas, key=lambda k: (counts[k] - quotas[k], k))[: windows - sum(counts.values())]:
        counts[code] += 1
    return counts


# ----- simulation with windows that open and close on the hour ---------------------------------------------

def demand_arrivals(scenario: Scenario, demand: DayDemand, seed: int, day: int) -> list[tuple[WaitingTicket, float]]:
    """One simulated day of ``demand``: (ticket, base service minutes), by arrival; reproducible."""
    rng = np.random.default_rng([seed, day])
    cats = {c.code: c for c in scenario.categories}
    rows: list[tuple[float, str, float]] = []
    for code, cat in cats.items():
        sigma2 = math.log1p(cat.service_cv ** 2)
        mu = math.log(cat.service_minutes_mean) - sigma2 / 2
        for (start, end), tickets in zip(demand.hours, demand.tickets, strict=True):
            n = int(rng.poisson(max(0.0, tickets.get(code, 0.0))))
            if n == 0:
                continue
            times = rng.uniform(start, end, n).tolist()
            services = rng.lognormal(mu, math.sqrt(sigma2), n).tolist()
            rows.extend(zip(times, [code] * n, services, strict=True))
    rows.sort(key=lambda r: r[0])
    return [(WaitingTicket(key=f"{day}-{i}", category=code, queued_at=t,
                           expected_service_min=cats[code].service_minutes_mean, ticket_class=TicketClass.NORMAL),
             service) for i, (t, code, service) in enumerate(rows)]


def plan_windows(scenario: Scenario, windows: Sequence[Mapping[str, int]],
                 skills: Mapping[str, tuple[str, ...]] | None = None) -> tuple[list[WindowView], list[list[bool]]]:
    """The windows a plan needs (the most each category opens in any hour) and which are open each hour.

    Window ``A2`` is open in an hour when category A opens at least two windows then. ``skills``
    (window key → categories) narrows a window to the skills of the person seated there.
    """
    codes = [c.code for c in scenario.categories]
    views: list[WindowView] = []
    open_flags: list[list[bool]] = []
    for code in codes:
        most = max((w.get(code, 0) for w in windows), default=0)
        for i in range(most):
            key = f"{code}{i + 1}"
            own = skills.get(key) if skills is not None else None
            window_skills = own if own else (code, *[c for c in codes if c != code])
            views.append(WindowView(key=key, skills=window_skills, home=(code,), kind=WindowKind.DEPARTMENT))
            open_flags.append([w.get(code, 0) > i for w in windows])
    return views, open_flags


def run_schedule_day(policy: RoutingPolicy, windows: Sequence[WindowView], open_flags: Sequence[Sequence[bool]],
                     hours: Sequence[tuple[float, float]], arrivals: Sequence[tuple[WaitingTicket, float]],
                     generalist_factor: float) -> list[tuple[float, str, float]]:
    """Simulate one day on windows that open and close on the hour; (arrival, category, wait) per ticket.

    A window closing at the top of an hour finishes the ticket in hand; one opening asks the policy at
    once. After closing, the windows of the last hour serve everyone still waiting.
    """
    n_windows = len(windows)
    starts = [s for s, _ in hours]

    def hour_at(t: float) -> int:
        return max(0, bisect.bisect_right(starts, t) - 1)

    def is_open(w: int, t: float) -> bool:
        return bool(open_flags[w][hour_at(t)])

    base = {t.key: s for t, s in arrivals}
    homes = [w.home_categories for w in windows]
    skills = [w.skills for w in windows]
    idle: set[int] = set()
    busy: list[tuple[float, int]] = []
    waiting: list[WaitingTicket] = []
    result: list[tuple[float, str, float]] = []
    pick = policy.pick
    # events: 0 = hour boundary, 1 = departure, 2 = arrival (boundaries first at equal times)
    boundaries = sorted(starts)
    b = 0
    i, n = 0, len(arrivals)

    def start(w: int, ticket: WaitingTicket, now: float) -> None:
        waiting.remove(ticket)
        duration = base[ticket.key]
        if ticket.category not in homes[w]:
            duration *= generalist_factor
        heapq.heappush(busy, (now + duration, w))
        result.append((ticket.queued_at, ticket.category, now - ticket.queued_at))

    def offer(now: float) -> None:
        for w in sorted(idle):
            if not waiting:
                return
            chosen = pick(windows[w], waiting, now)
            if chosen is not None:
                idle.discard(w)
                start(w, chosen, now)

    while i < n or busy or b < len(boundaries):
        t_arrival = arrivals[i][0].queued_at if i < n else math.inf
        t_departure = busy[0][0] if busy else math.inf
        t_boundary = boundaries[b] if b < len(boundaries) else math.inf
        if t_boundary <= t_departure and t_boundary <= t_arrival:
            if t_boundary == math.inf:
                break
            now = t_boundary
            b += 1
            k = hour_at(now)
            in_service = {w for _, w in busy}
            idle = {w for w in range(n_windows) if open_flags[w][k] and w not in in_service}
            offer(now)
            continue
        if t_departure <= t_arrival:
            now, w = heapq.heappop(busy)
            if is_open(w, now):
                chosen = pick(windows[w], waiting, now) if waiting else None
                if chosen is None:
                    idle.add(w)
                else:
                    start(w, chosen, now)
            continue
        ticket = arrivals[i][0]
        now = ticket.queued_at
        i += 1
        waiting.append(ticket)
        for w in sorted(x for x in idle if ticket.category in skills[x]):
            chosen = pick(windows[w], waiting, now)
            if chosen is not None:
                idle.discard(w)
                start(w, chosen, now)
                if not waiting:
                    break
    if waiting:  # no open window may serve them (a plan with a category nobody can take): a day's wait each
        for t in waiting:
            result.append((t.queued_at, t.category, UNSERVED_WAIT_MIN))
    return result


def _simulate(scenario: Scenario, policy: RoutingPolicy, demand: DayDemand, windows: Sequence[Mapping[str, int]],
              days: Sequence[list[tuple[WaitingTicket, float]]],
              skills: Mapping[str, tuple[str, ...]] | None = None) -> _Outcome:
    views, flags = plan_windows(scenario, windows, skills)
    starts = [s for s, _ in demand.hours]
    out = _Outcome(waits=[[] for _ in starts], day_means=[[] for _ in starts], day_p90s=[[] for _ in starts],
                   by_category=[{} for _ in starts])
    for arrivals in days:
        today: list[list[float]] = [[] for _ in starts]
        for arrived, code, wait in run_schedule_day(policy, views, flags, demand.hours, arrivals,
                                                    scenario.generalist_service_factor):
            k = max(0, bisect.bisect_right(starts, arrived) - 1)
            today[k].append(wait)
            out.by_category[k].setdefault(code, []).append(wait)
        for k, waits in enumerate(today):
            out.waits[k].extend(waits)
            if waits:
                out.day_means[k].append(sum(waits) / len(waits))
                out.day_p90s[k].append(float(np.percentile(waits, 90)))
    return out


def _hour_checks(demand: DayDemand, windows: Sequence[Mapping[str, int]], outcome: _Outcome, target: Target,
                 n_days: int, slack: float = 1.0, horizon_days: int = 0, z: float = 0.0) -> list[HourCheck]:
    # With ``horizon_days`` the mean must hold for a fresh run of that many days too: the estimate plus
    # ``z`` standard errors of the difference between two such means (day-to-day spread of the hour).
    checks: list[HourCheck] = []
    for k, (start, _end) in enumerate(demand.hours):
        waits = outcome.waits[k]
        mean = float(np.mean(waits)) if waits else 0.0
        p90 = float(np.percentile(waits, 90)) if waits else 0.0
        spread = spread_p90 = 0.0
        if horizon_days and len(outcome.day_means[k]) > 1:
            factor = z * math.sqrt(1 / horizon_days + 1 / len(outcome.day_means[k]))
            spread = factor * float(np.std(outcome.day_means[k], ddof=1))
            spread_p90 = factor * float(np.std(outcome.day_p90s[k], ddof=1))
        met = (mean <= slack * target.mean_min and mean + spread <= target.mean_min
               and (target.p90_min is None or (p90 <= slack * target.p90_min
                                               and p90 + spread_p90 <= target.p90_min)))
        checks.append(HourCheck(hour=hour_label(start), arrivals=len(waits) / n_days,
                                windows=sum(windows[k].values()), mean_wait_min=round(mean, 2),
                                p90_wait_min=round(p90, 2), met=met))
    return checks


def check_plan(scenario: Scenario, policy: RoutingPolicy, demand: DayDemand, windows: Sequence[Mapping[str, int]],
               target: Target, *, days: int, seed: int,
               arrivals_by_day: Sequence[list[tuple[WaitingTicket, float]]] | None = None,
               skills: Mapping[str, tuple[str, ...]] | None = None) -> list[HourCheck]:
    """Simulate a plan over ``days`` days from ``seed`` (or given arrivals); one check per hour."""
    sample = arrivals_by_day if arrivals_by_day is not None else [
        demand_arrivals(scenario, demand, seed, d) for d in range(days)]
    outcome = _simulate(scenario, policy, demand, windows, sample, skills)
    return _hour_checks(demand, windows, outcome, target, len(sample))


# ----- the planner -------------------------------------------------------------------------------------------

def plan_day(scenario: Scenario, policy: RoutingPolicy, demand: DayDemand, target: Target, *,
             plan_days: int = 32, seed: int = 0, safety: float = 0.85, horizon_days: int = 30,
             z: float = 3.0, give_back_below: float = 0.6) -> DayPlan:
    """The plan of one day: theory, then simulation to add windows where it misses and take back where it may.

    The planner's own simulated days must meet ``safety`` × the target, and their mean plus ``z``
    standard errors must meet the target over ``horizon_days`` days it has not seen (an hour whose
    waits swing from day to day gets more room).
    """
    sample = [demand_arrivals(scenario, demand, seed + PLAN_SEED_OFFSET, d) for d in range(plan_days)]
    minutes = [end - start for start, end in demand.hours]
    theory = [theory_windows(scenario, t, m, target) for t, m in zip(demand.tickets, minutes, strict=True)]
    cap = scenario.windows  # the hall has no more windows than this
    totals = [min(cap, max(1, c)) if sum(t.values()) > 0 else 0 for c, t in zip(theory, demand.tickets, strict=True)]
    windows = [split_by_load(scenario, t, c) for t, c in zip(demand.tickets, totals, strict=True)]

    def evaluate(ws: Sequence[Mapping[str, int]]) -> tuple[list[HourCheck], _Outcome]:
        outcome = _simulate(scenario, policy, demand, ws, sample)
        return _hour_checks(demand, ws, outcome, target, plan_days, slack=safety, horizon_days=horizon_days,
                            z=z), outcome

    checks, outcome = evaluate(windows)
    rounds = 0
    while not all(c.met for c in checks) and rounds < MAX_ROUNDS:  # add where it misses
        rounds += 1
        grown = False
        for k, check in enumerate(checks):
            if check.met:
                continue
            # a full hall drains its queue earlier instead: the nearest hour before with a window to spare
            for j in range(k, -1, -1):
                if sum(windows[j].values()) < cap:
                    windows[j] = _add_one(scenario, windows[j], outcome.by_category[j], demand.tickets[j])
                    grown = True
                    break
        if not grown:
            break
        checks, outcome = evaluate(windows)
    if all(c.met for c in checks):  # give back where the whole day still meets the target
        order = sorted(range(len(windows)), key=lambda k: (checks[k].mean_wait_min / target.mean_min, k))
        # never below what queueing theory needs for the hour on its own (the exact target, no margin): a
        # quiet hour with few windows swings from day to day more than the planner's sample shows
        floor = [min(cap, max(1, theory_windows(scenario, t, m, target, margin=1.0))) if sum(t.values()) > 0 else 0
                 for t, m in zip(demand.tickets, minutes, strict=True)]
        for k in order:
            # an hour already near the target would only fail the trial (each costs a simulation)
            while checks[k].mean_wait_min <= give_back_below * target.mean_min and sum(windows[k].values()) > floor[k]:
                trial = list(windows)
                trial[k] = _remove_one(scenario, windows[k], demand.tickets[k])
                trial_checks, trial_outcome = evaluate(trial)
                if not all(c.met for c in trial_checks):
                    break
                windows, checks, outcome = trial, trial_checks, trial_outcome
    return DayPlan(hours=demand.hours, windows=tuple(windows), theory_windows=tuple(theory), checks=tuple(checks))


def _add_one(scenario: Scenario, counts: Mapping[str, int], waits: Mapping[str, list[float]],
             tickets: Mapping[str, float]) -> dict[str, int]:
    # the category whose tickets waited most in the hour, all together, gets the window (the hour's mean
    # wait is the sum over its tickets)
    totals = {code: float(np.sum(w)) for code, w in waits.items() if w}
    code = max(totals, key=lambda k: (totals[k], k)) if totals else max(tickets, key=lambda k: (tickets[k], k))
    out = dict(counts)
    out[code] = out.get(code, 0) + 1
    return out


def _remove_one(scenario: Scenario, counts: Mapping[str, int], tickets: Mapping[str, float]) -> dict[str, int]:
    # the category with the most windows per unit of load gives one back
    means = {c.code: c.service_minutes_mean for c in scenario.categories}
    open_codes = [code for code, n in counts.items() if n > 0]
    code = max(open_codes, key=lambda k: (counts[k] / max(1e-9, tickets.get(k, 0.0) * means[k]), k))
    out = dict(counts)
    out[code] -= 1
    return out


def constant_windows(scenario: Scenario, demand: DayDemand, total: int) -> list[dict[str, int]]:
    """The same ``total`` windows every hour, split by the day's load: the baseline a plan is compared with."""
    day = {c.code: sum(t.get(c.code, 0.0) for t in demand.tickets) for c in scenario.categories}
    split = split_by_load(scenario, day, total)
    return [dict(split) for _ in demand.hours]


def best_constant(scenario: Scenario, policy: RoutingPolicy, demand: DayDemand, target: Target, *,
                  arrivals_by_day: Sequence[list[tuple[WaitingTicket, float]]]) -> tuple[int, list[HourCheck]]:
    """Fewest windows that, open all day, meet the target every hour on the given days (and their checks)."""
    peak = max(range(len(demand.hours)), key=lambda k: sum(demand.tickets[k].values()))
    start, end = demand.hours[peak]
    n = max(1, theory_windows(scenario, demand.tickets[peak], end - start, target, margin=1.0) - 3)

    def check(total: int) -> list[HourCheck]:
        return check_plan(scenario, policy, demand, constant_windows(scenario, demand, total), target, days=0,
                          seed=0, arrivals_by_day=arrivals_by_day)

    checks = check(n)
    while not all(c.met for c in checks):
        n += 1
        checks = check(n)
    while n > 1:
        lower = check(n - 1)
        if not all(c.met for c in lower):
            break
        n, checks = n - 1, lower
    return n, checks


# ----- a week, and what the hall settings take from a plan ----------------------------------------------------

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
DEFAULT_WEEK = {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0}


def parse_weekday_factors(raw: object) -> dict[int, float]:
    """The optional ``weekday_factors`` of a hall file (``{"mon": 1.2, ...}``, open days); Mon–Fri × 1 if absent."""
    if not isinstance(raw, dict):
        return dict(DEFAULT_WEEK)
    factors = raw.get("weekday_factors")
    if factors is None:
        return dict(DEFAULT_WEEK)
    problems: list[Problem] = []
    out: dict[int, float] = {}
    if not isinstance(factors, dict) or not factors:
        raise ValidationFailed([Problem("weekday_factors", "not_object", "应为对象，如 {\"mon\": 1.2, \"fri\": 0.9}")])
    for key, value in factors.items():
        field_name = f"weekday_factors.{key}"
        if key not in WEEKDAY_KEYS:
            problems.append(Problem(field_name, "bad_weekday", f"星期应为 {'/'.join(WEEKDAY_KEYS)}，实际为 {key!r}"))
        elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            problems.append(Problem(field_name, "out_of_range", f"应为不小于 0 的数字，实际为 {value!r}"))
        elif value > 0:
            out[WEEKDAY_KEYS.index(key)] = float(value)
    if problems:
        raise ValidationFailed(problems)
    return dict(sorted(out.items()))


@dataclass(frozen=True, slots=True)
class WeekPlan:
    """One plan per open weekday (0 = Monday)."""

    days: Mapping[int, DayPlan]
    demands: Mapping[int, DayDemand]

    @property
    def window_hours(self) -> float:
        """Window-hours over the week."""
        return sum(p.window_hours for p in self.days.values())


def plan_week(scenario: Scenario, policy: RoutingPolicy, demands: Mapping[int, DayDemand], target: Target, *,
              seed: int, plan_days: int = 32) -> WeekPlan:
    """Plan every open weekday; days with the same demand are planned once."""
    done: dict[object, DayPlan] = {}
    days: dict[int, DayPlan] = {}
    for weekday, demand in sorted(demands.items()):
        key = demand.key()
        if key not in done:
            done[key] = plan_day(scenario, policy, demand, target, plan_days=plan_days, seed=seed)
        days[weekday] = done[key]
    return WeekPlan(days=days, demands=dict(demands))


@dataclass(frozen=True, slots=True)
class TidalWindow:
    """A window open only in some hours: a 潮汐窗口 of its home category."""

    key: str
    home: str
    hours: tuple[str, ...]


def tidal_settings(plan: DayPlan) -> tuple[dict[str, int], list[TidalWindow]]:
    """What the hall's 潮汐窗口 settings take from a plan: the windows open all day per category, and the rest.

    Fixed windows are the fewest a category opens in any hour; every window above them opens only in
    its hours, so it is a flexible window (潮汐窗口) that helps where the queue is.
    """
    codes = sorted({code for w in plan.windows for code in w})
    fixed = {code: min(w.get(code, 0) for w in plan.windows) for code in codes}
    flexible: list[TidalWindow] = []
    for code in codes:
        most = max(w.get(code, 0) for w in plan.windows)
        for i in range(fixed[code], most):
            hours = tuple(hour_label(s) for (s, _), w in zip(plan.hours, plan.windows, strict=True)
                          if w.get(code, 0) > i)
            flexible.append(TidalWindow(key=f"{code}{i + 1}", home=code, hours=hours))
    return {c: n for c, n in fixed.items() if n}, flexible


@dataclass(frozen=True, slots=True)
class StaggerAdvice:
    """An hour that misses the target with the windows staffed, and the 错峰 that would meet it."""

    hour: str
    mean_wait_min: float
    over_by_min: float  # mean wait above the target
    move_slots: int | None  # appointment slots to move out of the hour (None: moving half does not help)
    to_hour: str | None


def stagger_advice(scenario: Scenario, policy: RoutingPolicy, demand: DayDemand, windows: Sequence[Mapping[str, int]],
                   target: Target, *, seed: int, days: int = 12, step: int = 2) -> list[StaggerAdvice]:
    """Where ``windows`` (e.g. what the staff can fill) miss the target: by how much, and how many bookings moved
    to the quietest hour (错峰) would meet it; found by simulation, ``step`` slots at a time."""
    sample_seed = seed + PLAN_SEED_OFFSET + 1
    checks = check_plan(scenario, policy, demand, windows, target, days=days, seed=sample_seed)
    advice: list[StaggerAdvice] = []
    for k, check in enumerate(checks):
        if check.met:
            continue
        quiet = [j for j in range(len(checks)) if j != k and sum(windows[j].values()) > 0]
        over = check.mean_wait_min - target.mean_min
        if not quiet:
            advice.append(StaggerAdvice(check.hour, check.mean_wait_min, round(over, 2), None, None))
            continue
        j = min(quiet, key=lambda i: (checks[i].mean_wait_min, abs(i - k)))
        hour_total = sum(demand.tickets[k].values())

        def meets(moved: int, k: int = k, j: int = j, hour_total: float = hour_total) -> bool:
            share = 1 - moved / hour_total
            tickets = list(demand.tickets)
            tickets[k] = {c: n * share for c, n in demand.tickets[k].items()}
            tickets[j] = {c: demand.tickets[j].get(c, 0.0) + n * moved / hour_total
                          for c, n in demand.tickets[k].items()}
            trial = check_plan(scenario, policy, DayDemand(hours=demand.hours, tickets=tuple(tickets)), windows,
                               target, days=days, seed=sample_seed)
            return trial[k].met and trial[j].met

        # the fewest slots (in steps of ``step``) up to half the hour's tickets: doubling, then bisection
        most = int(hour_total / 2) // step
        found: int | None = None
        if most >= 1 and meets(most * step):
            low, high = 0, most  # meets(high · step) holds; meets(low · step) is not known to
            probe = 1
            while probe < high and not meets(probe * step):
                low, probe = probe, probe * 2
            high = min(high, probe)
            while high - low > 1:
                mid = (low + high) // 2
                if meets(mid * step):
                    high = mid
                else:
                    low = mid
            found = high * step
        advice.append(StaggerAdvice(check.hour, check.mean_wait_min, round(over, 2), found,
                                    hour_label(demand.hours[j][0])))
    return advice
