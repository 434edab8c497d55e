"""The roster (pure): qualified people at every open window, shift rules kept, shortfalls named."""

from __future__ import annotations

import pytest

from onewindow.core.errors import ValidationFailed
from onewindow.planning.roster import Person, ShiftRules, build_roster, parse_people

HOURS = ["09", "10", "11", "12", "13", "14", "15", "16"]
RULES = ShiftRules(min_shift_hours=3, max_hours=7, lunch_from_hour=11, lunch_to_hour=14)


def test_everyone_sits_only_where_qualified_and_every_window_is_filled() -> None:
    windows = [{"A": 2, "B": 1}] * 8
    people = [Person("a1", "甲", ("A",)), Person("a2", "乙", ("A",)), Person("b1", "丙", ("B",)),
              Person("ab", "丁", ("A", "B")), Person("a3", "戊", ("A",)), Person("b2", "己", ("B",))]
    roster = build_roster(HOURS, windows, people, RULES)
    skills = {p.key: set(p.skills) for p in people}
    for seats in roster.seats:
        for window, person in seats.items():
            assert window.rstrip("0123456789") in skills[person]
    assert not roster.shortfalls
    assert roster.staffed() == [{"A": 2, "B": 1}] * 8


def test_shift_rules_lunch_inside_the_lunch_hours_and_no_more_than_the_most_hours() -> None:
    windows = [{"A": 2}] * 8
    people = [Person(f"a{i}", f"人{i}", ("A",)) for i in range(5)]
    roster = build_roster(HOURS, windows, people, RULES)
    for shift in roster.shifts:
        assert shift.hours <= RULES.max_hours
        worked = sorted([*shift.seats, *shift.standby])
        if worked[0] < "11" and worked[-1] >= "14":
            assert shift.lunch in {"11", "12", "13"}
            assert shift.lunch not in shift.seats
    assert not roster.shortfalls


def test_a_window_nobody_qualified_can_take_is_a_shortfall() -> None:
    windows = [{"A": 1, "B": 2}] * 2
    people = [Person("a", "甲", ("A",)), Person("b", "乙", ("B",))]
    roster = build_roster(["09", "10"], windows, people, RULES)
    assert [(f.hour, f.category, f.missing) for f in roster.shortfalls] == [("09", "B", 1), ("10", "B", 1)]
    assert roster.staffed() == [{"A": 1, "B": 1}] * 2


def test_the_versatile_person_is_kept_for_the_window_only_they_can_take() -> None:
    windows = [{"A": 1, "B": 1}]
    people = [Person("ab", "全能", ("A", "B")), Person("a", "专一", ("A",))]
    roster = build_roster(["09"], windows, people, RULES)
    assert roster.seats[0] == {"A1": "a", "B1": "ab"}


def test_a_person_not_needed_before_the_shortest_shift_stands_by() -> None:
    windows = [{"A": 1}, {"A": 0}, {"A": 1}, {"A": 1}]
    roster = build_roster(["09", "10", "11", "12"], windows, [Person("a", "甲", ("A",))],
                          ShiftRules(min_shift_hours=3, max_hours=7, lunch_from_hour=20, lunch_to_hour=21))
    shift = roster.shifts[0]
    assert shift.standby == ["10"] and set(shift.seats) == {"09", "11", "12"}


def test_staff_files_are_validated_in_chinese() -> None:
    assert parse_people([{"name": "张三", "skills": ["A"]}], ["A"])[0].skills == ("A",)
    with pytest.raises(ValidationFailed) as err:
        parse_people([{"name": "", "skills": ["A"]}, {"name": "李四", "skills": ["Q"]}], ["A"])
    assert [p.field for p in err.value.problems] == ["staff[0].name", "staff[1].skills"]
