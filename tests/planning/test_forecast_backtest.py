"""The arrival forecast (pure): day types from the calendar, same-weekday means, learned 节后 factor, WAPE."""

from __future__ import annotations

import datetime as dt

from onewindow.calendar.workdays import WorkCalendar
from onewindow.planning import forecast as fc

CAL = WorkCalendar()


def test_day_types_know_make_up_days_and_the_first_day_after_a_long_holiday() -> None:
    assert fc.day_type(dt.date(2025, 10, 9), CAL.is_workday) is fc.DayType.AFTER_HOLIDAY  # after 国庆 1–8
    assert fc.day_type(dt.date(2025, 9, 28), CAL.is_workday) is fc.DayType.MAKEUP  # a Sunday worked (调休)
    assert fc.day_type(dt.date(2025, 10, 13), CAL.is_workday) is fc.DayType.NORMAL  # Monday after a weekend
    assert fc.day_type(dt.date(2025, 10, 3), CAL.is_workday) is fc.DayType.CLOSED


def test_forecast_is_the_same_weekday_mean_scaled_by_the_learned_type_factor_and_floored_by_bookings() -> None:
    cell = ("09", "A")
    history: dict[dt.date, dict[fc.Cell, float]] = {}
    day = dt.date(2025, 4, 1)
    while day <= dt.date(2025, 5, 30):
        kind = fc.day_type(day, CAL.is_workday)
        if kind is not fc.DayType.CLOSED:
            history[day] = {cell: 20.0 if kind is fc.DayType.AFTER_HOLIDAY else 10.0 + day.weekday()}
        day += dt.timedelta(days=1)
    monday = dt.date(2025, 6, 9)
    assert fc.forecast_day(monday, history, CAL.is_workday) == {cell: 10.0}
    # 2025-05-06 followed the 劳动节 break (1–5 May): twice its plain forecast, so 2025-06-03 (after 端午) too
    after = fc.forecast_day(dt.date(2025, 6, 3), history, CAL.is_workday)
    assert after[cell] > 15
    booked = fc.forecast_day(monday, history, CAL.is_workday, bookings={cell: 14, ("10", "B"): 3})
    assert booked == {cell: 14.0, ("10", "B"): 3.0}
    assert fc.forecast_day(dt.date(2025, 6, 7), history, CAL.is_workday) == {}  # a Saturday off


def test_backtest_beats_the_naive_same_weekday_baseline_on_a_noisy_history() -> None:
    expected = {wd: {("09", "A"): 40.0 + 5 * wd, ("10", "A"): 60.0, ("10", "B"): 15.0} for wd in range(5)}
    history = fc.synthetic_history(["09", "10"], expected, dt.date(2025, 5, 1), dt.date(2025, 10, 31),
                                   CAL.is_workday, seed=3)
    result = fc.backtest(history, CAL.is_workday, held_out_weeks=6)
    assert result.days > 20
    assert result.wape < result.naive_wape
    assert result.by_type["after_holiday"][0] == 1  # 2025-10-09


def test_wape_counts_cells_missing_on_either_side() -> None:
    assert fc.wape([{("09", "A"): 10.0}], [{("09", "B"): 5.0}]) == 1.5
