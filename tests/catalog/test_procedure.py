"""Procedure rules owned by the catalog (pure): typed steps, JSON round trip, the 容缺 wording."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from onewindow.calendar.workdays import TimeUnit
from onewindow.catalog.procedure import (
    Procedure,
    ProcedureError,
    StepKind,
    StepRule,
    SuspensionKind,
    UnknownStepName,
    classify_step,
    deferral_wording,
    legacy_step_names,
    procedure_of,
    unknown_step_names,
)
from onewindow.core.access import Role


def _reference_items() -> list[dict[str, Any]]:
    text = resources.files("onewindow.data").joinpath("catalog-reference.json").read_text(encoding="utf-8")
    items: list[dict[str, Any]] = json.loads(text)["items"]
    return items


REFERENCE_STEP_NAMES = sorted({name for item in _reference_items() for name in item.get("steps", [])})


def test_the_reference_catalog_has_step_names_to_type() -> None:
    assert len(REFERENCE_STEP_NAMES) > 50


@pytest.mark.parametrize("name", REFERENCE_STEP_NAMES)
def test_every_reference_step_name_has_a_kind(name: str) -> None:
    assert isinstance(classify_step(name), StepKind)


def test_no_reference_step_name_is_unknown() -> None:
    assert unknown_step_names(REFERENCE_STEP_NAMES) == []


@pytest.mark.parametrize(("name", "kind"), [
    ("受理", StepKind.ACCEPT), ("受理（含交易、缴税）", StepKind.ACCEPT), ("网上报名", StepKind.ACCEPT),
    ("审查", StepKind.REVIEW), ("审核", StepKind.REVIEW), ("现场核查（必要时）", StepKind.REVIEW),
    ("核准登记", StepKind.REVIEW), ("公示", StepKind.REVIEW),
    ("决定", StepKind.DECIDE), ("作出处理决定", StepKind.DECIDE),
    ("发证", StepKind.ISSUE), ("制证", StepKind.ISSUE), ("缮证发证", StepKind.ISSUE), ("发放营业执照", StepKind.ISSUE),
    ("办结", StepKind.COMPLETE), ("送达", StepKind.COMPLETE), ("领取或邮寄", StepKind.COMPLETE),
    ("按月发放", StepKind.COMPLETE),
    # names outside the reference catalog, typed by keyword
    ("窗口受理", StepKind.ACCEPT), ("局长审批", StepKind.REVIEW), ("作出行政许可决定", StepKind.DECIDE),
    ("颁发许可证", StepKind.ISSUE), ("结果送达", StepKind.COMPLETE),
])
def test_step_kinds(name: str, kind: StepKind) -> None:
    assert classify_step(name) is kind


@pytest.mark.parametrize("name", ["喝茶", "等待", ""])
def test_an_unknown_step_name_raises_instead_of_falling_to_a_default(name: str) -> None:
    with pytest.raises(UnknownStepName) as exc:
        classify_step(name)
    assert "无法识别办理环节" in exc.value.message


def test_every_reference_item_has_a_procedure_that_round_trips() -> None:
    for item in _reference_items():
        proc = procedure_of(legal_days=item["legal_limit_days"], promised_days=item["promised_limit_days"],
                            unit=item.get("limit_unit", "working_day"), steps=item.get("steps", []))
        data = proc.to_json()
        assert data["v"] == 1
        assert json.loads(json.dumps(data, ensure_ascii=False)) == data
        assert Procedure.from_json(data) == proc
        assert proc.steps[0].kind is StepKind.ACCEPT and proc.steps[0].performer is Role.CLERK


def test_derived_steps_are_the_steps_cases_always_got() -> None:
    assert legacy_step_names([]) == ["受理", "审核", "办结"]
    assert legacy_step_names(["网上报名", "审查"]) == ["受理", "网上报名", "审查"]
    assert legacy_step_names(["受理"]) == ["受理", "办结"]
    proc = procedure_of(legal_days=20, promised_days=10, unit="working_day",
                        steps=["受理", "审查", "现场核查（必要时）", "决定", "发证"])
    assert proc.kinds == (StepKind.ACCEPT, StepKind.REVIEW, StepKind.REVIEW, StepKind.DECIDE, StepKind.ISSUE)
    assert [s.optional for s in proc.steps] == [False, False, True, False, False]
    assert proc.decision_index == 3


def test_without_a_decide_step_the_last_step_records_the_decision() -> None:
    proc = procedure_of(legal_days=10, promised_days=5, unit="working_day", steps=["受理", "审核", "办结"])
    assert proc.decision_index == 2


def test_an_override_sets_kinds_performers_and_limits() -> None:
    proc = procedure_of(
        legal_days=20, promised_days=10, unit="working_day", steps=["受理", "审查", "核准登记", "发放营业执照"],
        override={"steps": [{"kind": "accept"}, {"kind": "review"},
                            {"kind": "decide", "performer": "dept_head", "distinct_from_previous": True},
                            {"kind": "issue"}],
                  "max_extension_days": 10, "deferral_working_days": 5, "suspension_kinds": ["hearing"],
                  "separation_of_duties": True})
    assert proc.decision_index == 2
    assert proc.steps[2] == StepRule(StepKind.DECIDE, "核准登记", Role.DEPT_HEAD, distinct_from_previous=True)
    assert (proc.max_extension_days, proc.deferral_working_days) == (10, 5)
    assert proc.suspension_kinds == (SuspensionKind.HEARING,)
    assert proc.allows_suspension("hearing") and not proc.allows_suspension("expert")
    assert Procedure.from_json(proc.to_json()) == proc


def test_an_override_of_an_item_without_a_leading_acceptance_skips_the_added_step() -> None:
    proc = procedure_of(legal_days=20, promised_days=10, unit="working_day", steps=["网上报名", "审查"],
                        override={"steps": [{"kind": "review"}, {"kind": "decide"}]})
    assert proc.kinds == (StepKind.ACCEPT, StepKind.REVIEW, StepKind.DECIDE)


@pytest.mark.parametrize(("override", "field"), [
    ({"steps": [{"kind": "accept"}]}, "procedure.steps"),
    ({"steps": [{"kind": "accept"}, {"kind": "decide"}, {"kind": "decide"}]}, "procedure.steps"),
    ({"steps": [{"kind": "review"}, {"kind": "review"}, {"kind": "decide"}]}, "procedure.steps"),
    ({"steps": [{"kind": "accept"}, {"kind": "vote"}, {"kind": "decide"}]}, "procedure.steps[1]"),
    ({"steps": [{}, {"performer": "applicant"}, {}]}, "procedure.steps[1].performer"),
    ({"suspension_kinds": ["holiday"]}, "procedure.suspension_kinds"),
    ({"max_extension_days": 31}, "procedure.max_extension_days"),
    ({"deferral_working_days": 0}, "procedure.deferral_working_days"),
])
def test_a_bad_override_names_the_field(override: dict[str, Any], field: str) -> None:
    with pytest.raises(ProcedureError) as exc:
        procedure_of(legal_days=20, promised_days=10, unit="working_day", steps=["受理", "审查", "决定"],
                     override=override)
    assert exc.value.field == field


@pytest.mark.parametrize(("data", "field"), [
    ({"v": 2}, "procedure.v"),
    ({"v": 1, "legal_days": 1}, "procedure"),
])
def test_bad_json_is_refused(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ProcedureError) as exc:
        Procedure.from_json(data)
    assert exc.value.field == field


def test_the_deferral_wording_names_the_days_and_the_promise() -> None:
    proc = procedure_of(legal_days=20, promised_days=5, unit=TimeUnit.WORKING_DAY, steps=[],
                        deferral_working_days=7)
    text = deferral_wording(proc)
    assert "7个工作日内补齐" in text
    assert "不晚于承诺办结时限（5个工作日）" in text
