"""The pure intake and access rules (no database): verdict, claimed-status checks, 秒批, who may see a case,
the material dedup key."""

from __future__ import annotations

import pytest

from onewindow.cases.rules import (
    CaseScope,
    ChecklistLine,
    MaterialStatus,
    Outcome,
    Viewer,
    auto_approvable,
    can_view,
    deferral_allowed,
    material_key,
    status_problem,
    verdict,
)
from onewindow.core.permissions import Role

M = MaterialStatus


def line(name: str, status: MaterialStatus, *, required: bool = True, deferrable: bool = False) -> ChecklistLine:
    return ChecklistLine(f"name:{name}", name, required, deferrable, status)


# ----- verdict -----------------------------------------------------------------------------------------


def test_every_required_material_supplied_is_accepted() -> None:
    v = verdict([line("申请书", M.PAPER), line("身份证", M.LIBRARY), line("照片", M.MISSING, required=False)])
    assert v.outcome is Outcome.ACCEPT
    assert v.missing == () and v.deferred == () and v.promised == ()


def test_missing_required_materials_make_one_complete_correction_list() -> None:
    lines = [line("申请书", M.MISSING), line("身份证", M.UPLOADED), line("场所证明", M.MISSING),
             line("委托书", M.MISSING, required=False)]
    v = verdict(lines)
    assert v.outcome is Outcome.CORRECTION
    assert [ln.name for ln in v.missing] == ["申请书", "场所证明"]  # the optional one is not asked for


def test_deferred_and_promised_materials_still_accept_and_are_reported() -> None:
    lines = [line("申请书", M.PAPER), line("场所证明", M.DEFERRED, deferrable=True), line("居住证明", M.PROMISED)]
    v = verdict(lines)
    assert v.outcome is Outcome.ACCEPT
    assert [ln.name for ln in v.deferred] == ["场所证明"]
    assert [ln.name for ln in v.promised] == ["居住证明"]


def test_refuse_wins_over_everything() -> None:
    assert verdict([line("申请书", M.MISSING)], refuse=True).outcome is Outcome.REFUSE
    assert verdict([line("申请书", M.PAPER)], refuse=True).outcome is Outcome.REFUSE


def test_empty_checklist_is_accepted() -> None:
    assert verdict([]).outcome is Outcome.ACCEPT


# ----- claimed statuses ---------------------------------------------------------------------------------


def test_deferring_a_non_deferrable_material_is_refused() -> None:
    why = status_problem(line("身份证", M.DEFERRED), commitment=False, has_certificate=False)
    assert why is not None and "身份证" in why and "容缺" in why
    assert status_problem(line("场所证明", M.DEFERRED, deferrable=True), commitment=False,
                          has_certificate=False) is None


def test_a_promise_needs_the_signed_commitment() -> None:
    why = status_problem(line("居住证明", M.PROMISED), commitment=False, has_certificate=False)
    assert why is not None and "承诺" in why
    assert status_problem(line("居住证明", M.PROMISED), commitment=True, has_certificate=False) is None


def test_library_status_needs_a_certificate_in_the_library() -> None:
    why = status_problem(line("身份证", M.LIBRARY), commitment=False, has_certificate=False)
    assert why is not None and "证照库" in why
    assert status_problem(line("身份证", M.LIBRARY), commitment=False, has_certificate=True) is None


@pytest.mark.parametrize("status", [M.PAPER, M.ELECTRONIC, M.UPLOADED, M.MISSING])
def test_plain_statuses_are_always_allowed(status: MaterialStatus) -> None:
    assert status_problem(line("申请书", status), commitment=False, has_certificate=False) is None


def test_deferral_needs_the_main_materials() -> None:
    deferred = line("场所证明", M.DEFERRED, deferrable=True)
    assert not deferral_allowed([deferred, line("申请书", M.MISSING)])
    assert not deferral_allowed([deferred, line("照片", M.PAPER, required=False)])  # optional is not "main"
    assert deferral_allowed([deferred, line("申请书", M.PAPER)])
    assert deferral_allowed([deferred, line("身份证", M.LIBRARY)])


# ----- 秒批 ---------------------------------------------------------------------------------------------


def test_instant_item_with_every_required_material_from_the_library_is_auto_approvable() -> None:
    lines = [line("身份证", M.LIBRARY), line("户口簿", M.LIBRARY), line("照片", M.MISSING, required=False)]
    assert auto_approvable(instant=True, lines=lines)


def test_not_auto_approvable_when_a_person_must_look_or_the_item_is_not_instant() -> None:
    from_library = [line("身份证", M.LIBRARY)]
    assert not auto_approvable(instant=False, lines=from_library)
    assert not auto_approvable(instant=True, lines=[*from_library, line("登记表", M.PAPER)])
    assert not auto_approvable(instant=True, lines=[*from_library, line("登记表", M.UPLOADED)])
    assert not auto_approvable(instant=True, lines=[*from_library, line("证明", M.PROMISED)])
    # nothing required: nothing was checked against data, so no rule may approve
    assert not auto_approvable(instant=True, lines=[line("照片", M.LIBRARY, required=False)])
    assert not auto_approvable(instant=True, lines=[])


# ----- who may see a case -------------------------------------------------------------------------------

SCOPE = CaseScope(departments=frozenset({3, 7}), applicant_id="41072419900315001X", applicant_user_id=21,
                  agent_user_id=30)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPERVISOR, Role.CLERK])
def test_center_staff_see_every_case(role: Role) -> None:
    assert can_view(Viewer(1, role, None, None), SCOPE)


@pytest.mark.parametrize("role", [Role.APPROVER, Role.DEPT_HEAD])
def test_departments_see_their_cases_and_bundles_they_take_part_in(role: Role) -> None:
    assert can_view(Viewer(2, role, 3, None), SCOPE)
    assert can_view(Viewer(2, role, 7, None), SCOPE)  # a sub-case's department sees the bundle
    assert not can_view(Viewer(2, role, 4, None), SCOPE)
    assert not can_view(Viewer(2, role, None, None), SCOPE)


def test_applicants_see_their_own_cases_by_account_or_id_number() -> None:
    assert can_view(Viewer(21, Role.APPLICANT, None, None), SCOPE)
    assert can_view(Viewer(99, Role.APPLICANT, None, "41072419900315001X"), SCOPE)
    assert not can_view(Viewer(99, Role.APPLICANT, None, "410724199209080045"), SCOPE)
    assert not can_view(Viewer(99, Role.APPLICANT, None, ""), CaseScope(frozenset({3}), "", None, None))


def test_agents_see_only_cases_they_filed_and_experiencers_none() -> None:
    assert can_view(Viewer(30, Role.AGENT, 1, None), SCOPE)
    assert not can_view(Viewer(31, Role.AGENT, 1, None), SCOPE)
    assert not can_view(Viewer(40, Role.EXPERIENCER, None, "41072419900315001X"), SCOPE)


# ----- material dedup key -------------------------------------------------------------------------------


def test_material_key_prefers_the_certificate_type() -> None:
    assert material_key("父母居民身份证", "ID_CARD") == "cert:ID_CARD"
    assert material_key("经营者居民身份证", "ID_CARD") == material_key("申领人居民身份证", "ID_CARD")


def test_material_key_normalises_names_without_a_certificate_type() -> None:
    assert material_key("个体工商户登记（备案）申请书", None) == "name:个体工商户登记备案申请书"
    assert material_key(" 《出生医学证明》首次签发 登记表", None) == material_key("出生医学证明首次签发登记表", None)
    assert material_key("经营场所使用证明(租赁协议等)", None) == material_key("经营场所使用证明（租赁协议等）", None)
    assert material_key("申请书", None) != material_key("申请表", None)
