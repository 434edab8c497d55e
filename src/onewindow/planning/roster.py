"""Who sits where (pure): staff seated at a plan's windows by their qualifications and the shift rules.

Hour by hour, greedily:

* people already on shift keep their window while it stays open; the rest of them are matched to
  the open windows they are qualified for (一岗多能; a maximum bipartite matching, so nobody who could
  sit is left standing while a window stays empty);
* the windows still empty take people not yet on shift, the most specialised first (the versatile
  ones stay free for the hours when only they fit);
* one shift a day, at least ``min_shift_hours`` long (a person not needed before then stands by,
  备岗) and at most ``max_hours`` including standby;
* whoever started before the lunch hours and works on takes one hour off inside them, in an hour
  that still has enough people, at the latest in the last lunch hour;
* a window nobody qualified can take is a shortfall (hour, category, how many), which the planner
  turns into the hours that miss the target and the 错峰 advice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from onewindow.core.errors import Problem, ValidationFailed


@dataclass(frozen=True, slots=True)
class Person:
    """A member of staff and the hall categories they may serve (StaffQualification)."""

    key: str
    name: str
    skills: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ShiftRules:
    """Shift rules: shortest shift, most hours a day, the lunch hours (one hour off inside them)."""

    min_shift_hours: int = 3
    max_hours: int = 7
    lunch_from_hour: int = 11
    lunch_to_hour: int = 14


@dataclass(frozen=True, slots=True)
class Shortfall:
    """Windows of a category that nobody qualified was free to take in an hour."""

    hour: str
    category: str
    missing: int


@dataclass(slots=True)
class Shift:
    """One person's day: the hours at a window (window key per hour label), standby and lunch."""

    person: Person
    seats: dict[str, str] = field(default_factory=dict)  # hour → window key
    standby: list[str] = field(default_factory=list)
    lunch: str | None = None

    @property
    def hours(self) -> int:
        """Hours on shift (at a window or standing by)."""
        return len(self.seats) + len(self.standby)


@dataclass(frozen=True, slots=True)
class Roster:
    """Seats per hour (window key → person key), the shifts, and what could not be staffed."""

    hours: tuple[str, ...]
    seats: tuple[Mapping[str, str], ...]
    shifts: tuple[Shift, ...]
    shortfalls: tuple[Shortfall, ...]

    def staffed(self) -> list[dict[str, int]]:
        """Staffed windows per hour and home category (the plan minus its shortfalls)."""
        out: list[dict[str, int]] = []
        for seats in self.seats:
            counts: dict[str, int] = {}
            for window in seats:
                category = _category(window)
                counts[category] = counts.get(category, 0) + 1
            out.append(counts)
        return out


def _match(left: Sequence[str], options: Mapping[str, Sequence[str]], taken: dict[str, str]) -> dict[str, str]:
    """Maximum bipartite matching (Kuhn): each of ``left`` to one of its options; ``taken`` is option → left."""
    owner = dict(taken)

    def augment(item: str, seen: set[str]) -> bool:
        for option in options.get(item, ()):
            if option in seen:
                continue
            seen.add(option)
            if option not in owner or augment(owner[option], seen):
                owner[option] = item
                return True
        return False

    for item in left:
        augment(item, set())
    return {item: option for option, item in owner.items() if option not in taken}


def _category(window: str) -> str:
    return window.rstrip("0123456789")


def _ordered(free: Sequence[str], skills: set[str], was: str | None) -> list[str]:
    # the windows a person may take, those of the category they sat at first
    same = _category(was) if was else ""
    return sorted((w for w in free if _category(w) in skills), key=lambda w: (_category(w) != same, w))


def _windows(counts: Mapping[str, int]) -> list[str]:
    return [f"{code}{i + 1}" for code, n in sorted(counts.items()) for i in range(n)]


def build_roster(hours: Sequence[str], windows: Sequence[Mapping[str, int]], people: Sequence[Person],
                 rules: ShiftRules) -> Roster:
    """Seat ``people`` at the plan's ``windows`` (home category → count, per hour labelled ``hours``)."""
    shifts = {p.key: Shift(person=p) for p in people}
    state = {p.key: "off" for p in people}  # off → on ⇄ lunch → done
    where: dict[str, str | None] = {p.key: None for p in people}
    lunched: set[str] = set()
    all_seats: list[dict[str, str]] = []
    shortfalls: list[Shortfall] = []
    skills = {p.key: set(p.skills) for p in people}
    # a hall that closes before the lunch hours end sends nobody to lunch: they leave at closing
    works_after_lunch = any(int(h) >= rules.lunch_to_hour for h in hours)
    lunch_hours = [h for h in hours if rules.lunch_from_hour <= int(h) < rules.lunch_to_hour and works_after_lunch]

    for k, hour in enumerate(hours):
        open_windows = _windows(windows[k])
        for key, s in state.items():
            if s == "lunch":
                state[key] = "on"
            if state[key] == "on" and shifts[key].hours >= rules.max_hours:
                state[key] = "done"
        on = [key for key, s in state.items() if s == "on"]
        if hour in lunch_hours:
            # whoever started before the lunch hours takes one of them off (a later start has eaten already)
            due = [key for key in on if key not in lunched
                   and min([*shifts[key].seats, *shifts[key].standby], default=hour) < f"{rules.lunch_from_hour:02d}"]
            if hour == lunch_hours[-1]:
                going = due
            else:
                spare = max(0, len(on) - len(open_windows))
                going = sorted(due, key=lambda key: (-shifts[key].hours, key))[:spare]
            for key in going:
                state[key] = "lunch"
                lunched.add(key)
                shifts[key].lunch = hour
            on = [key for key in on if key not in going]

        seats: dict[str, str] = {}
        for key in on:  # stay at the same window while it is open
            window = where[key]
            if window is not None and window in open_windows and window not in seats:
                seats[window] = key
        free = [w for w in open_windows if w not in seats]
        moving = [key for key in on if key not in seats.values()]
        options = {key: _ordered(free, skills[key], where[key]) for key in moving}
        for key, window in _match(moving, options, {}).items():
            seats[window] = key
        for key in on:
            if key in seats.values():
                continue
            if shifts[key].hours < rules.min_shift_hours:
                shifts[key].standby.append(hour)
            else:
                state[key] = "done"
                where[key] = None

        empty = [w for w in open_windows if w not in seats]
        fresh = sorted((key for key, s in state.items() if s == "off"), key=lambda key: (len(skills[key]), key))
        by_window = {w: [key for key in fresh if _category(w) in skills[key]] for w in empty}
        empty.sort(key=lambda w: (len(by_window[w]), w))  # the hardest window to fill first
        for window, key in _match(empty, by_window, {}).items():
            seats[window] = key
            state[key] = "on"
        missing: dict[str, int] = {}
        for window in empty:
            if window not in seats:
                category = _category(window)
                missing[category] = missing.get(category, 0) + 1
        shortfalls.extend(Shortfall(hour, c, n) for c, n in sorted(missing.items()))
        for window, key in seats.items():
            shifts[key].seats[hour] = window
            where[key] = window
        all_seats.append(dict(sorted(seats.items())))

    for shift in shifts.values():  # a shift that ends at its lunch hour simply ends
        if shift.lunch is not None and not any(h > shift.lunch for h in [*shift.seats, *shift.standby]):
            shift.lunch = None
    worked = tuple(s for s in shifts.values() if s.hours)
    return Roster(hours=tuple(hours), seats=tuple(all_seats), shifts=worked, shortfalls=tuple(shortfalls))


def parse_people(raw: object, categories: Sequence[str]) -> list[Person]:
    """Staff from JSON (``[{"name": "张三", "skills": ["A", "D"]}, ...]``); every problem reported in Chinese."""
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed([Problem("staff", "not_list",
                                        "人员文件应为非空数组，如 [{\"name\": \"张三\", \"skills\": [\"A\"]}]")])
    problems: list[Problem] = []
    people: list[Person] = []
    known = set(categories)
    for i, item in enumerate(raw):
        field_name = f"staff[{i}]"
        if not isinstance(item, dict):
            problems.append(Problem(field_name, "not_object", "应为对象"))
            continue
        name = item.get("name")
        skills = item.get("skills")
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(f"{field_name}.name", "required", "缺少姓名"))
            continue
        if not isinstance(skills, list) or not skills or not all(isinstance(s, str) for s in skills):
            problems.append(Problem(f"{field_name}.skills", "required", "缺少可办类别，如 [\"A\", \"D\"]"))
            continue
        unknown = [s for s in skills if s not in known]
        if unknown:
            problems.append(Problem(f"{field_name}.skills", "unknown_category", f"未知的类别：{'、'.join(unknown)}"))
            continue
        people.append(Person(key=str(item.get("key", f"p{i + 1}")), name=name.strip(), skills=tuple(skills)))
    if problems:
        raise ValidationFailed(problems)
    return people
