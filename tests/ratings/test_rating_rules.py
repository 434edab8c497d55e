"""The pure 好差评 rules: levels, dimensions per setting, reasons and what ``validate`` refuses."""

from __future__ import annotations

import pytest

from onewindow.ratings import rules
from onewindow.ratings.rules import Level, Setting

WINDOW_ALL = dict.fromkeys(rules.WINDOW_DIMENSIONS, "satisfied")
ONLINE_ALL = dict.fromkeys(rules.ONLINE_DIMENSIONS, "satisfied")


def test_five_levels_of_which_the_last_two_are_negative_and_the_first_two_positive() -> None:
    assert [lv.label for lv in Level] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert [lv.negative for lv in Level] == [False, False, False, True, True]
    assert [lv.positive for lv in Level] == [True, True, False, False, False]


def test_dimensions_by_setting() -> None:
    assert list(rules.dimensions_for(Setting.WINDOW).values()) == ["整体满意度", "服务效率", "服务水平", "服务态度"]
    assert list(rules.dimensions_for(Setting.ONLINE).values()) == [
        "整体满意度", "办事效率", "办事指南精确度", "办事便捷度", "平台操作性"]
    assert {c.value for c in rules.Channel} == {"evaluator", "qr", "online", "sms", "kiosk", "default"}


@pytest.mark.parametrize(("setting", "level", "scores", "reasons", "comment", "expected"), [
    (Setting.WINDOW, "satisfied", WINDOW_ALL, [], "", []),
    (Setting.WINDOW, "满意", WINDOW_ALL, [], "", []),  # the Chinese name is accepted too
    (Setting.ONLINE, "very_satisfied", ONLINE_ALL, [], "", []),
    (Setting.WINDOW, "great", WINDOW_ALL, [], "", [("level", "unknown_level")]),
    (Setting.WINDOW, "satisfied", {**WINDOW_ALL, "attitude": ""}, [], "", [("scores.attitude", "missing_dimension")]),
    (Setting.WINDOW, "satisfied", {**WINDOW_ALL, "usability": "satisfied"}, [], "",
     [("scores.usability", "unknown_dimension")]),
    (Setting.ONLINE, "satisfied", WINDOW_ALL, [], "",  # the window's dimensions rated online
     [("scores.skill", "unknown_dimension"), ("scores.attitude", "unknown_dimension"),
      ("scores.guide_accuracy", "missing_dimension"), ("scores.convenience", "missing_dimension"),
      ("scores.usability", "missing_dimension")]),
    (Setting.WINDOW, "unsatisfied", WINDOW_ALL, [], "", [("reasons", "reason_required")]),
    (Setting.WINDOW, "very_unsatisfied", WINDOW_ALL, ["long_wait"], "", []),
    (Setting.WINDOW, "very_unsatisfied", WINDOW_ALL, ["rude"], "", [("reasons", "unknown_reason")]),
    (Setting.WINDOW, "satisfied", WINDOW_ALL, [], "字" * 501, [("comment", "comment_too_long")]),
])
def test_validate(setting: Setting, level: str, scores: dict[str, str], reasons: list[str], comment: str,
                  expected: list[tuple[str, str]]) -> None:
    problems = rules.validate(setting=setting, level=level, scores=scores, reasons=reasons, comment=comment)
    assert [(p.field, p.code) for p in problems] == expected
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in p.message) for p in problems)  # reasons in Chinese


def test_reasons_to_choose_from() -> None:
    assert {"等候时间长", "态度不好", "一次性告知不清", "多次跑动", "材料要求不合理", "系统操作不便", "超期办理",
            "其他"} == set(rules.REASONS.values())
