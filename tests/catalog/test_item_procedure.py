"""Item versions store their typed procedure; an optional ``procedure`` object is validated, kept and exported."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from onewindow.catalog import service as catalog_service
from onewindow.catalog.exporter import export_catalog
from onewindow.catalog.importer import import_catalog, validate_catalog
from onewindow.catalog.procedure import Procedure, StepKind
from onewindow.catalog.schemas import ItemIn
from onewindow.core.access import Role
from onewindow.core.audit import Actor
from onewindow.core.clock import FixedClock
from onewindow.core.errors import ValidationFailed
from onewindow.demo import reference_catalog

ACTOR = Actor(None, "test")


def _item_with_steps(steps: list[str]) -> dict[str, Any]:
    items: list[dict[str, Any]] = reference_catalog()["items"]
    return next(i for i in items if i.get("steps") == steps)


def test_the_reference_file_imports_unchanged_with_a_procedure_on_every_version(session: Session,
                                                                                   clock: FixedClock) -> None:
    report = import_catalog(session, clock=clock, actor=ACTOR, data=reference_catalog())
    assert report.changed_total == 0
    assert not [w for w in report.warnings if w.code == "unknown_step_kind"]
    item = _item_with_steps(["受理", "审查", "现场核查（必要时）", "决定", "发证"])
    _, version = catalog_service.get_item_version(session, item["code"])
    proc = catalog_service.procedure_for(session, version.id)
    assert proc.kinds == (StepKind.ACCEPT, StepKind.REVIEW, StepKind.REVIEW, StepKind.DECIDE, StepKind.ISSUE)
    assert (proc.legal_days, proc.promised_days) == (item["legal_limit_days"], item["promised_limit_days"])
    assert proc.steps[2].optional
    assert catalog_service.procedure_for(session, version.id, deferral_working_days=5).deferral_working_days == 5


def test_an_override_is_stored_exported_and_reimported_unchanged(session: Session, clock: FixedClock) -> None:
    raw = _item_with_steps(["受理", "审查", "核准登记", "发放营业执照"])
    raw = {**raw, "procedure": {"steps": [{}, {}, {"kind": "decide", "performer": "dept_head",
                                                   "distinct_from_previous": True}, {}],
                                "deferral_working_days": 5, "separation_of_duties": True}}
    result = catalog_service.save_item(session, clock=clock, actor=ACTOR, data=ItemIn.model_validate(raw))
    assert result.changed
    proc = catalog_service.procedure_for(session, result.version.id, deferral_working_days=10)
    assert proc.decision_index == 2 and proc.steps[2].performer is Role.DEPT_HEAD
    assert proc.deferral_working_days == 5  # the item's own 容缺 days win over the setting
    assert Procedure.from_json(proc.to_json()) == proc

    exported = next(i for i in export_catalog(session)["items"] if i["code"] == raw["code"])
    assert exported["procedure"] == raw["procedure"]  # only the keys the file set
    again = catalog_service.save_item(session, clock=clock, actor=ACTOR, data=ItemIn.model_validate(exported))
    assert not again.changed


def test_an_item_without_an_override_exports_no_procedure_key(session: Session) -> None:
    assert all("procedure" not in i for i in export_catalog(session)["items"])


@pytest.mark.parametrize(("override", "field", "words"), [
    ({"steps": [{"kind": "decide"}]}, "procedure.steps", "环节数"),
    ({"steps": [{}, {"kind": "decide"}, {"kind": "decide"}, {}]}, "procedure.steps", "只能有一个决定环节"),
    ({"steps": [{}, {}, {"kind": "vote"}, {}]}, "procedure.steps[2].kind", "取值必须是"),
    ({"steps": [{}, {"performer": "applicant"}, {}, {}]}, "procedure.steps[1].performer", "取值必须是"),
    ({"max_extension_days": 45}, "procedure.max_extension_days", "必须小于或等于 30"),
    ({"deferral_working_days": 0}, "procedure.deferral_working_days", "必须大于或等于 1"),
    ({"suspension_kinds": ["holiday"]}, "procedure.suspension_kinds[0]", "取值必须是"),
    ({"colour": "red"}, "procedure.colour", ""),
])
def test_a_bad_override_is_refused_with_a_chinese_message_naming_the_field(
        session: Session, override: dict[str, Any], field: str, words: str) -> None:
    data = reference_catalog()
    index, item = next((i, it) for i, it in enumerate(data["items"])
                       if it.get("steps") == ["受理", "审查", "核准登记", "发放营业执照"])
    item["procedure"] = override
    with pytest.raises(ValidationFailed) as exc:
        validate_catalog(session, data)
    problems = [(p.field, p.message) for p in exc.value.problems]
    assert len(problems) == 1, problems
    where, message = problems[0]
    assert where == f"items[{index}]（{item['code']}）.{field}"
    assert words in message


def test_an_unknown_step_name_is_reported_not_silently_typed(session: Session) -> None:
    data = reference_catalog()
    data["items"][0]["steps"] = ["受理", "喝茶", "办结"]
    _, warnings = validate_catalog(session, data)
    assert [(w.code, "喝茶" in w.message) for w in warnings if w.code == "unknown_step_kind"] == [
        ("unknown_step_kind", True)]


def test_an_excel_round_trip_keeps_the_override(session: Session, clock: FixedClock) -> None:
    from onewindow.catalog.excel import export_workbook, import_workbook

    raw = _item_with_steps(["受理", "审查", "核准登记", "发放营业执照"])
    raw = {**raw, "procedure": {"max_extension_days": 10}}
    catalog_service.save_item(session, clock=clock, actor=ACTOR, data=ItemIn.model_validate(raw))
    report = import_workbook(session, clock=clock, actor=ACTOR, source=export_workbook(session))
    assert report.changed_total == 0
    _, version = catalog_service.get_item_version(session, raw["code"])
    assert catalog_service.procedure_for(session, version.id).max_extension_days == 10
