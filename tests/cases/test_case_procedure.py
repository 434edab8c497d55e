"""A case runs under the procedure its item had when it was accepted: steps by kind, the 特别程序 kinds
and extension limit it allows, who performs each step, and 审批分离."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.orm import Session

from onewindow.cases import service
from onewindow.cases.kinds import StepOutcome
from onewindow.cases.procedure import decision_index
from onewindow.catalog import service as catalog_service
from onewindow.catalog.models import ItemVersion
from onewindow.catalog.procedure import Procedure, StepKind, SuspensionKind
from onewindow.core.access import Role
from onewindow.core.clock import FixedClock
from onewindow.core.errors import Conflict, PermissionDenied, ValidationFailed
from tests.factories import FOOD, approver_for, make_case, review_to_decision


def _version(session: Session, code: str = FOOD) -> ItemVersion:
    (_item, version), = catalog_service.items_by_codes(session, [code])
    return version


def _override(session: Session, change: dict[str, object] | None = None, **steps: dict[str, object]) -> Procedure:
    """Store a changed procedure on the item (as an admin's override would); ``steps`` by kind."""
    version = _version(session)
    procedure = catalog_service.procedure_for(session, version.id)
    rules = tuple(dataclasses.replace(r, **steps.get(r.kind.value, {})) for r in procedure.steps)  # type: ignore[arg-type]
    changed = dataclasses.replace(procedure, steps=rules, **(change or {}))  # type: ignore[arg-type]
    version.procedure = changed.to_json()
    session.flush()
    return changed


def test_case_steps_carry_the_kinds_of_the_procedure_copied_at_acceptance(session: Session,
                                                                          clock: FixedClock) -> None:
    case = make_case(session, clock, item_code=FOOD, state="accepted")
    procedure = Procedure.from_json(case.procedure or {})
    assert procedure == catalog_service.procedure_for(session, case.item_version_id or 0,
                                                      deferral_working_days=10)
    assert [s.kind for s in case.steps] == [r.kind.value for r in procedure.steps]
    assert [s.name for s in case.steps] == [r.name for r in procedure.steps]
    assert case.steps[0].kind == StepKind.ACCEPT.value


def test_renaming_a_step_label_does_not_change_which_step_decides(session: Session, clock: FixedClock) -> None:
    case = make_case(session, clock, item_code=FOOD, state="accepted")
    deciding = decision_index(case)
    for step in case.steps:  # every label swapped for another: the kinds still say which step decides
        step.name = "决定" if step.kind != StepKind.DECIDE.value else "审核"
    assert decision_index(case) == deciding
    approver = approver_for(session, case)
    review_to_decision(session, approver, case, clock)
    service.decide(session, clock=clock, user=approver, case_id=case.id, expected_version=case.version,
                   approve=True, reason="符合条件")
    assert case.steps[deciding].opinion == "符合条件"
    assert all(s.outcome == StepOutcome.AGREE for s in case.steps[:deciding])


def test_a_suspension_kind_the_procedure_does_not_allow_is_refused(session: Session, clock: FixedClock) -> None:
    _override(session, {"suspension_kinds": (SuspensionKind.HEARING,)})
    case = make_case(session, clock, item_code=FOOD, state="in_review")
    approver = approver_for(session, case)
    with pytest.raises(ValidationFailed) as refused:
        service.suspend(session, clock=clock, user=approver, case_id=case.id, expected_version=case.version,
                        kind=SuspensionKind.EXPERT.value, reason="请专家评审")
    assert refused.value.problems[0].code == "kind_not_allowed"
    assert "专家评审" in refused.value.problems[0].message
    service.suspend(session, clock=clock, user=approver, case_id=case.id, expected_version=case.version,
                    kind=SuspensionKind.HEARING.value, reason="申请人要求听证")
    assert case.state == "suspended"


def test_the_extension_limit_comes_from_the_items_procedure(session: Session, clock: FixedClock) -> None:
    _override(session, {"max_extension_days": 5})
    case = make_case(session, clock, item_code=FOOD, state="in_review")
    _override(session, {"max_extension_days": 30})  # a later change of the item does not reach the case
    approver = approver_for(session, case)
    with pytest.raises(ValidationFailed) as refused:
        service.request_extension(session, clock=clock, user=approver, case_id=case.id, days=6, reason="需补充核查")
    assert refused.value.problems[0].code == "days_out_of_range"
    assert "最多延期 5 个工作日" in refused.value.problems[0].message
    ext = service.request_extension(session, clock=clock, user=approver, case_id=case.id, days=5, reason="需补充核查")
    assert ext.days == 5


def test_separation_of_duties_refuses_the_same_person_twice(session: Session, clock: FixedClock) -> None:
    _override(session, decide={"distinct_from_previous": True})
    case = make_case(session, clock, item_code=FOOD, state="accepted")
    approver = approver_for(session, case)
    review_to_decision(session, approver, case, clock)
    with pytest.raises(Conflict) as same:
        service.decide(session, clock=clock, user=approver, case_id=case.id, expected_version=case.version,
                       approve=True, reason="符合条件")
    assert same.value.code == "same_person" and "审批分离" in same.value.message
    head = approver_for(session, case, role="dept_head")  # a 首席代表 covers an approver's step
    service.decide(session, clock=clock, user=head, case_id=case.id, expected_version=case.version,
                   approve=True, reason="符合条件")
    assert case.state == "approved"


def test_a_step_for_the_department_head_is_refused_to_an_approver(session: Session, clock: FixedClock) -> None:
    _override(session, decide={"performer": Role.DEPT_HEAD})
    case = make_case(session, clock, item_code=FOOD, state="accepted")
    approver = approver_for(session, case)
    review_to_decision(session, approver, case, clock)
    with pytest.raises(PermissionDenied) as refused:
        service.decide(session, clock=clock, user=approver, case_id=case.id, expected_version=case.version,
                       approve=True, reason="符合条件")
    assert refused.value.code == "not_performer"
    service.decide(session, clock=clock, user=approver_for(session, case, role="dept_head"), case_id=case.id,
                   expected_version=case.version, approve=True, reason="符合条件")
    assert case.state == "approved"
