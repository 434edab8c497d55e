"""未诉先办 (pure): orders grouped by item, department and keyword, the last 30 days against the 30 before."""

from __future__ import annotations

import datetime as dt

from onewindow.complaints.insight import InsightRow, periods, recurring

TODAY = dt.date(2026, 11, 23)


def _row(days_ago: int, subject: str, *, item: str | None = None, dept: str | None = "县城管局") -> InsightRow:
    return InsightRow(accepted_on=TODAY - dt.timedelta(days=days_ago), item_key=item, department_key=dept,
                      subject=subject)


def test_periods_are_thirty_days_each_ending_today() -> None:
    assert periods(TODAY) == (dt.date(2026, 10, 25), TODAY, dt.date(2026, 9, 25), dt.date(2026, 10, 24))


def test_rising_subjects_are_counted_against_the_previous_period() -> None:
    rows = [
        _row(0, "小区垃圾无人清运"), _row(3, "垃圾清运不及时，臭味严重"), _row(29, "楼下垃圾堆积无人清运"),
        _row(30, "垃圾清运问题"),  # the first day of the previous period
        _row(10, "医保报销比例咨询", item="410724-YBJ-JF-001", dept="县医保局"),
        _row(40, "医保报销进度", item="410724-YBJ-JF-001", dept="县医保局"),
        _row(45, "医保报销材料", item="410724-YBJ-JF-001", dept="县医保局"),
        _row(61, "垃圾清运太慢"),  # older than both periods: not read
    ]
    found = recurring(rows, today=TODAY, min_count=1)
    assert (found.orders_current, found.orders_previous) == (4, 3)
    words = {t.key: t for t in found.keywords}
    assert (words["垃圾"].current, words["垃圾"].previous, words["垃圾"].change_text) == (3, 1, "+2")
    assert (words["清运"].current, words["清运"].previous) == (3, 1)
    assert words["医保"].current == 1 and words["医保"].previous == 2 and not words["医保"].rising
    assert "问题" not in words  # a stop word
    assert [(t.key, t.current, t.previous) for t in found.departments] == [("县城管局", 3, 1), ("县医保局", 1, 2)]
    assert [(t.key, t.current, t.previous) for t in found.items] == [("410724-YBJ-JF-001", 1, 2)]
    assert found.keywords[0].key in {"垃圾", "清运"} and len(found.keywords[0].examples) == 3


def test_a_group_below_the_minimum_is_left_out_and_new_ones_are_marked() -> None:
    rows = [_row(1, "路灯损坏"), _row(2, "路灯坏了一周"), _row(3, "噪音扰民")]
    found = recurring(rows, today=TODAY)
    assert [t.key for t in found.keywords] == ["路灯"]
    assert found.keywords[0].change_text == "新出现"


def test_a_word_seen_only_inside_a_longer_one_is_not_listed_twice() -> None:
    rows = [_row(1, "农贸市场噪音扰民"), _row(2, "农贸市场早上噪音太大"), _row(3, "超市门口占道")]
    keys = [t.key for t in recurring(rows, today=TODAY).keywords]
    assert "农贸市场" in keys and "农贸" not in keys and "噪音" in keys
