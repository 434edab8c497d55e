"""A week's plan as the JSON the CLI prints and the plan page renders (one shape for both)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from onewindow.planning import plan as planning
from onewindow.planning.roster import Person, Roster, ShiftRules, build_roster
from onewindow.queue.routing import RoutingPolicy
from onewindow.simulation.scenario import Scenario

STAGGER_MIN_STAFFED = 0.7  # 错峰 advice is worked out when the staff fill at least this share of the plan


def day_payload(scenario: Scenario, policy: RoutingPolicy, weekday: int, day: planning.DayPlan,
                demand: planning.DayDemand, target: planning.Target, *, people: Sequence[Person] | None,
                rules: ShiftRules, seed: int) -> dict[str, Any]:
    """One day: windows per hour and category, simulated waits, 潮汐窗口 settings, roster and 错峰 advice."""
    labels = [planning.hour_label(s) for s, _ in day.hours]
    fixed, flexible = planning.tidal_settings(day)
    payload: dict[str, Any] = {
        "weekday": planning.WEEKDAY_KEYS[weekday],
        "label": planning.WEEKDAY_LABELS[weekday],
        "window_hours": round(day.window_hours, 2),
        "target_met_every_hour": day.met,
        "hours": [{"hour": h, "arrivals": round(sum(t.values()), 1), "windows": dict(sorted(w.items())),
                   "total": sum(w.values()), "theory_windows": th, "mean_wait_min": c.mean_wait_min,
                   "p90_wait_min": c.p90_wait_min, "met": c.met}
                  for h, t, w, th, c in zip(labels, demand.tickets, day.windows, day.theory_windows, day.checks,
                                            strict=True)],
        "tidal": {"fixed": fixed, "flexible_windows": len(flexible),
                  "flexible": [{"window": f.key, "home": f.home, "hours": list(f.hours)} for f in flexible]},
    }
    if people is not None:
        roster = build_roster(labels, day.windows, people, rules)
        payload["roster"] = roster_payload(roster)
        staffed = roster.staffed()
        planned_hours = sum(sum(w.values()) for w in day.windows)
        staffed_hours = sum(sum(w.values()) for w in staffed)
        if roster.shortfalls and staffed_hours >= STAGGER_MIN_STAFFED * planned_hours:
            advice = planning.stagger_advice(scenario, policy, demand, staffed, target, seed=seed)
            payload["stagger"] = [{"hour": a.hour, "mean_wait_min": a.mean_wait_min, "over_by_min": a.over_by_min,
                                   "move_slots": a.move_slots, "to_hour": a.to_hour} for a in advice]
        elif roster.shortfalls:  # far too few people: moving bookings cannot help, and simulating it is slow
            payload["understaffed"] = {"planned_window_hours": planned_hours, "staffed_window_hours": staffed_hours}
    return payload


def roster_payload(roster: Roster) -> dict[str, Any]:
    """Who sits where per hour, each person's shift, and the windows nobody could take."""
    names = {s.person.key: s.person.name for s in roster.shifts}
    return {
        "seats": [{"hour": h, "windows": {w: names[p] for w, p in seats.items()}}
                  for h, seats in zip(roster.hours, roster.seats, strict=True)],
        "shifts": [{"name": s.person.name, "skills": list(s.person.skills), "hours": s.hours,
                    "from": min([*s.seats, *s.standby]), "to": max([*s.seats, *s.standby]),
                    "lunch": s.lunch, "standby": s.standby} for s in roster.shifts],
        "shortfalls": [{"hour": f.hour, "category": f.category, "missing": f.missing} for f in roster.shortfalls],
    }


def week_payload(scenario: Scenario, policy: RoutingPolicy, week: planning.WeekPlan, target: planning.Target, *,
                 people: Sequence[Person] | None, rules: ShiftRules, seed: int) -> dict[str, Any]:
    """The whole week (days planned alike are laid out once)."""
    done: dict[int, dict[str, Any]] = {}
    days: list[dict[str, Any]] = []
    for wd, d in week.days.items():
        if id(d) not in done:
            done[id(d)] = day_payload(scenario, policy, wd, d, week.demands[wd], target, people=people, rules=rules,
                                      seed=seed)
        days.append({**done[id(d)], "weekday": planning.WEEKDAY_KEYS[wd], "label": planning.WEEKDAY_LABELS[wd]})
    return {
        "scenario": scenario.name,
        "policy": policy.name,
        "target": {"mean_min": target.mean_min, "p90_min": target.p90_min},
        "categories": {c.code: c.name for c in scenario.categories},
        "window_hours": round(week.window_hours, 2),
        "target_met_every_hour": all(d.met for d in week.days.values()),
        "days": days,
    }


def default_people(scenario: Scenario, windows: Mapping[str, int] | None = None) -> list[Person]:
    """A staff list for a scenario without one: per category its dedicated windows' clerks plus half as many
    again, every third of them also qualified for the next category (一岗多能)."""
    codes = [c.code for c in scenario.categories]
    people: list[Person] = []
    for i, c in enumerate(scenario.categories):
        count = (windows or {}).get(c.code, c.dedicated_windows)
        for n in range(max(1, round(count * 1.5))):
            other = codes[(i + 1) % len(codes)]
            skills = (c.code, other) if n % 3 == 2 and other != c.code else (c.code,)
            people.append(Person(key=f"{c.code}-{n + 1}", name=f"{c.name}{n + 1}号", skills=skills))
    return people
