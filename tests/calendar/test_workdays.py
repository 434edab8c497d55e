"""Working-day arithmetic on real dates (pure: no database).

Expected dates are written by hand from the State Council's notice for 2026
(国务院办公厅关于2026年部分节假日安排的通知, 国办发明电〔2025〕7号):

* 元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
* 春节：2月15日（周日）至23日（周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
* 清明节：4月4日（周六）至6日（周一）放假，共3天。
* 劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
* 端午节：6月19日（周五）至21日（周日）放假，共3天。
* 中秋节：9月25日（周五）至27日（周日）放假，共3天。
* 国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
"""

from __future__ import annotations

import datetime as dt
import time

import holidays
import pytest

from onewindow.calendar.workdays import (
    DayKind,
    DayOverride,
    DueDate,
    TimeUnit,
    WorkCalendar,
    YearSource,
)

D = dt.date


def span(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


NOTICE_2026_HOLIDAYS = (
    span(D(2026, 1, 1), D(2026, 1, 3)) + span(D(2026, 2, 15), D(2026, 2, 23))
    + span(D(2026, 4, 4), D(2026, 4, 6)) + span(D(2026, 5, 1), D(2026, 5, 5))
    + span(D(2026, 6, 19), D(2026, 6, 21)) + span(D(2026, 9, 25), D(2026, 9, 27))
    + span(D(2026, 10, 1), D(2026, 10, 7))
)
NOTICE_2026_MAKEUP = [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20),
                      D(2026, 10, 10)]


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar()


# -- the official 2026 table ------------------------------------------------------------------


def test_every_day_of_2026_follows_the_official_notice(cal: WorkCalendar) -> None:
    for day in span(D(2026, 1, 1), D(2026, 12, 31)):
        if day in NOTICE_2026_HOLIDAYS:
            expected = False
        elif day in NOTICE_2026_MAKEUP:
            expected = True
        else:
            expected = day.weekday() < 5
        info = cal.day_info(day)
        assert info.workday is expected, day
        assert info.provisional is False, day


def test_2026_spring_festival_is_nine_days_off_from_sunday_15_to_monday_23(cal: WorkCalendar) -> None:
    assert cal.is_workday(D(2026, 2, 13))  # Friday before
    for day in span(D(2026, 2, 15), D(2026, 2, 23)):
        info = cal.day_info(day)
        assert (info.workday, info.provisional, info.name) == (False, False, "春节"), day
    assert cal.is_workday(D(2026, 2, 24))  # Tuesday after


def test_make_up_saturdays_of_2026_are_working_days(cal: WorkCalendar) -> None:
    for day in NOTICE_2026_MAKEUP:
        assert day.weekday() >= 5
        info = cal.day_info(day)
        assert info.workday and not info.provisional, day
        assert "调休上班" in info.name
    assert cal.day_info(D(2026, 2, 14)).name == "春节调休上班"


def test_make_up_saturday_counts_as_a_working_day_before_spring_festival(cal: WorkCalendar) -> None:
    accepted = D(2026, 2, 12)  # Thursday
    assert cal.add_working_days(accepted, 1) == DueDate(D(2026, 2, 13), False)
    assert cal.add_working_days(accepted, 2) == DueDate(D(2026, 2, 14), False)  # the make-up Saturday
    # 13 Fri, 14 Sat(班), then the holiday 15–23, then 24 Tue, 25 Wed, 26 Thu.
    assert cal.add_working_days(accepted, 5) == DueDate(D(2026, 2, 26), False)


def test_national_day_2026_is_skipped_and_both_make_up_days_count(cal: WorkCalendar) -> None:
    assert cal.add_working_days(D(2026, 9, 18), 1) == DueDate(D(2026, 9, 20), False)  # Sunday 班
    for day in span(D(2026, 10, 1), D(2026, 10, 7)):
        assert cal.day_info(day).name == "国庆节"
        assert not cal.is_workday(day)
    accepted = D(2026, 9, 30)  # Wednesday
    assert cal.add_working_days(accepted, 1).date == D(2026, 10, 8)
    assert cal.add_working_days(accepted, 3).date == D(2026, 10, 10)  # Saturday 班
    assert cal.add_working_days(accepted, 4).date == D(2026, 10, 12)


def test_special_days_of_2026_list_the_arrangement(cal: WorkCalendar) -> None:
    special = cal.special_days(2026)
    assert sorted(s.day_date for s in special if s.workday) == NOTICE_2026_MAKEUP
    assert sorted(s.day_date for s in special if not s.workday) == sorted(NOTICE_2026_HOLIDAYS)
    assert not any(s.provisional or s.overridden for s in special)


# -- beyond the official table: provisional 2027 ----------------------------------------------


def test_year_sources(cal: WorkCalendar) -> None:
    assert cal.year_source(2026) is YearSource.OFFICIAL
    assert cal.year_source(2004) is YearSource.OFFICIAL
    assert cal.year_source(2027) is YearSource.PROVISIONAL
    assert cal.year_source(2003) is YearSource.PROVISIONAL
    assert WorkCalendar(notice_years=[2027]).year_source(2027) is YearSource.NOTICE
    assert not cal.is_official_year(2027)


def test_december_2026_acceptance_lands_in_2027_and_is_provisional(cal: WorkCalendar) -> None:
    accepted = D(2026, 12, 25)  # Friday
    # 28–31 Dec: 4 days, all official.
    assert cal.add_working_days(accepted, 4) == DueDate(D(2026, 12, 31), False)
    # 2027-01-01 (Fri, 元旦) is off by the provisional calendar; 4–8, 11–15, 18–22 Jan give
    # 5 + 5 + 5 days (19 in all), and Monday 25 Jan is the 20th.
    assert cal.add_working_days(accepted, 5) == DueDate(D(2027, 1, 4), True)
    assert cal.add_working_days(accepted, 20) == DueDate(D(2027, 1, 25), True)


def test_2027_new_year_and_spring_festival_come_from_the_holidays_package(cal: WorkCalendar) -> None:
    new_year = cal.day_info(D(2027, 1, 1))
    assert (new_year.workday, new_year.provisional, new_year.name) == (False, True, "元旦")
    # 春节 2027: 正月初一 is Saturday 6 Feb. Statutory days (2025 rules): 除夕 5 Feb and 初一–初三
    # 6–8 Feb; 初一 and 初二 fall on the weekend, so the law's 补假 gives Tuesday 9 and Wednesday 10.
    assert cal.day_info(D(2027, 2, 5)).name == "农历除夕"
    for day in span(D(2027, 2, 5), D(2027, 2, 10)):
        info = cal.day_info(day)
        assert not info.workday and info.provisional, day
    assert cal.day_info(D(2027, 2, 4)) .workday
    after = cal.day_info(D(2027, 2, 11))
    assert after.workday and after.provisional
    # Every festival day the package knows is a rest day; no weekend is a make-up working day.
    for day, name in holidays.country_holidays("CN", years=2027).items():
        assert not cal.is_workday(day), (day, name)
    for day in span(D(2027, 1, 1), D(2027, 12, 31)):
        if day.weekday() >= 5:
            assert not cal.is_workday(day), day


def test_2027_spring_festival_pushes_a_january_acceptance(cal: WorkCalendar) -> None:
    accepted = D(2027, 2, 1)  # Monday
    # 2, 3, 4 Feb, then off 5–10, then 11 (Thu), 12 (Fri), 15 (Mon).
    assert cal.add_working_days(accepted, 6) == DueDate(D(2027, 2, 15), True)


# -- overrides and loaded notices -------------------------------------------------------------


def test_override_beats_the_official_table() -> None:
    cal = WorkCalendar({
        D(2026, 2, 13): DayOverride(DayKind.HOLIDAY, "县委县政府加休"),
        D(2026, 2, 23): DayOverride(DayKind.WORKDAY),
    })
    assert cal.day_info(D(2026, 2, 13)) .name == "县委县政府加休"
    assert not cal.is_workday(D(2026, 2, 13))
    monday = cal.day_info(D(2026, 2, 23))
    assert monday.workday and not monday.provisional and monday.name == "调休上班"
    # 14 Sat(班) is the 1st, then Monday 23 (override) the 2nd.
    assert cal.add_working_days(D(2026, 2, 12), 2) == DueDate(D(2026, 2, 23), False)
    assert [s.day_date for s in cal.special_days(2026) if s.overridden] == [D(2026, 2, 13), D(2026, 2, 23)]


def test_override_in_a_provisional_year_is_certain_for_that_day_only() -> None:
    cal = WorkCalendar({D(2027, 2, 11): DayOverride(DayKind.HOLIDAY, "春节")})
    info = cal.day_info(D(2027, 2, 11))
    assert (info.workday, info.provisional) == (False, False)
    assert cal.day_info(D(2027, 2, 12)).provisional
    assert cal.add_working_days(D(2027, 2, 1), 4) == DueDate(D(2027, 2, 12), True)


def hypothetical_2027_notice() -> dict[dt.date, DayOverride]:
    """A notice in the shape the State Council publishes (the real one is due in late 2026)."""
    days = {d: DayOverride(DayKind.HOLIDAY, "元旦") for d in span(D(2027, 1, 1), D(2027, 1, 3))}
    days |= {d: DayOverride(DayKind.HOLIDAY, "春节") for d in span(D(2027, 2, 5), D(2027, 2, 13))}
    days[D(2027, 2, 20)] = DayOverride(DayKind.WORKDAY, "春节调休上班")
    return days


def test_a_loaded_notice_makes_2027_official() -> None:
    cal = WorkCalendar(hypothetical_2027_notice(), notice_years=[2027])
    assert cal.add_working_days(D(2026, 12, 25), 20) == DueDate(D(2027, 1, 25), False)
    assert cal.day_info(D(2027, 2, 20)).workday  # make-up Saturday
    assert not cal.is_workday(D(2027, 2, 27))  # an ordinary Saturday
    # The notice is the whole arrangement: a festival it does not list is an ordinary day.
    qingming = cal.day_info(D(2027, 4, 5))
    assert qingming.workday and not qingming.provisional
    specials = cal.special_days(2027)
    assert specials and all(not s.provisional for s in specials)


def test_overrides_without_a_notice_leave_the_rest_of_the_year_provisional() -> None:
    cal = WorkCalendar(hypothetical_2027_notice())
    assert cal.year_source(2027) is YearSource.PROVISIONAL
    assert cal.add_working_days(D(2026, 12, 25), 20).provisional


# -- natural days -----------------------------------------------------------------------------


def test_natural_days_end_on_the_last_day_when_it_is_a_working_day(cal: WorkCalendar) -> None:
    assert cal.add_natural_days(D(2026, 9, 20), 10) == DueDate(D(2026, 9, 30), False)
    assert cal.add_natural_days(D(2026, 9, 30), 10) == DueDate(D(2026, 10, 10), False)  # Saturday 班


def test_natural_days_ending_on_a_rest_day_move_to_the_next_working_day(cal: WorkCalendar) -> None:
    assert cal.add_natural_days(D(2026, 9, 25), 10) == DueDate(D(2026, 10, 8), False)  # 国庆 → Thu 8
    assert cal.add_natural_days(D(2026, 11, 23), 5) == DueDate(D(2026, 11, 30), False)  # Sat → Mon


def test_natural_days_ending_in_provisional_2027(cal: WorkCalendar) -> None:
    assert cal.add_natural_days(D(2026, 12, 1), 10) == DueDate(D(2026, 12, 11), False)
    assert cal.add_natural_days(D(2026, 12, 22), 10) == DueDate(D(2027, 1, 4), True)


def test_zero_days_is_the_acceptance_day(cal: WorkCalendar) -> None:
    assert cal.add_working_days(D(2026, 2, 14), 0) == DueDate(D(2026, 2, 14), False)
    assert cal.add_natural_days(D(2026, 10, 3), 0) == DueDate(D(2026, 10, 3), False)


def test_due_date_dispatches_on_the_unit(cal: WorkCalendar) -> None:
    assert cal.due_date(D(2026, 9, 25), 10, "natural_day").date == D(2026, 10, 8)
    # 28, 29, 30 Sep; 国庆 1–7 Oct; 8, 9, 10 (Sat 班), 12, 13, 14, 15 Oct.
    assert cal.due_date(D(2026, 9, 25), 10, TimeUnit.WORKING_DAY).date == D(2026, 10, 15)
    assert cal.due_date(D(2026, 9, 25), 10).date == D(2026, 10, 15)
    with pytest.raises(ValueError, match="fortnight"):
        cal.due_date(D(2026, 9, 25), 10, "fortnight")


# -- suspensions and remaining days -----------------------------------------------------------


def test_suspended_days_do_not_count(cal: WorkCalendar) -> None:
    accepted = D(2026, 11, 23)  # Monday
    assert cal.add_working_days(accepted, 5).date == D(2026, 11, 30)
    paused = [(D(2026, 11, 25), D(2026, 11, 26))]
    assert cal.add_working_days(accepted, 5, paused).date == D(2026, 12, 2)
    assert cal.add_natural_days(accepted, 10).date == D(2026, 12, 3)
    # Three natural days suspended: the nominal last day is Sunday 6 Dec, so Monday 7 Dec.
    assert cal.add_natural_days(accepted, 10, [(D(2026, 11, 25), D(2026, 11, 27))]).date == D(2026, 12, 7)
    assert cal.due_date(accepted, 5, "working_day", paused).date == D(2026, 12, 2)


def test_suspension_over_a_holiday_and_several_pauses(cal: WorkCalendar) -> None:
    accepted = D(2026, 9, 28)  # Monday
    pauses = [(D(2026, 9, 29), D(2026, 10, 9)), (D(2026, 10, 13), D(2026, 10, 13))]
    # 28 Sep accepted; 29 Sep–9 Oct suspended; 10 (Sat 班) 1, 12 Mon 2, 13 suspended, 14 Wed 3.
    assert cal.add_working_days(accepted, 3, pauses).date == D(2026, 10, 14)


def test_bad_arguments_are_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_days(D(2026, 1, 5), -1)
    with pytest.raises(ValueError, match="suspension"):
        cal.add_working_days(D(2026, 1, 5), 3, [(D(2026, 1, 9), D(2026, 1, 8))])


def test_working_days_between_counts_days_left(cal: WorkCalendar) -> None:
    assert cal.working_days_between(D(2026, 2, 12), D(2026, 2, 26)) == 5
    assert cal.working_days_between(D(2026, 2, 26), D(2026, 2, 12)) == -5
    assert cal.working_days_between(D(2026, 2, 26), D(2026, 2, 26)) == 0
    assert cal.working_days_between(D(2026, 2, 25), D(2026, 2, 26)) == 1  # yellow: one day left
    assert cal.working_days_between(D(2026, 11, 23), D(2026, 11, 30),
                                    [(D(2026, 11, 25), D(2026, 11, 26))]) == 3
    due = cal.add_working_days(D(2026, 12, 25), 20).date
    assert cal.working_days_between(D(2026, 12, 25), due) == 20


def test_next_workday(cal: WorkCalendar) -> None:
    assert cal.next_workday(D(2026, 10, 1)) == D(2026, 10, 8)
    assert cal.next_workday(D(2026, 10, 8)) == D(2026, 10, 8)


def test_ten_thousand_due_dates_are_fast() -> None:
    cal = WorkCalendar()
    starts = [D(2025, 1, 1) + dt.timedelta(days=i % 800) for i in range(10_000)]
    began = time.perf_counter()
    for i, start in enumerate(starts):
        cal.due_date(start, 20, "working_day" if i % 2 else "natural_day")
    assert time.perf_counter() - began < 2.0
