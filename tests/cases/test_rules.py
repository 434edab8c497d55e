"""The pure intake and access rules (no database): verdict, claimed-status checks, 秒批, who may see a case,
the material dedup key."""

from __future__ import annotations

import pytest

from onewindow.cases.rules import (
    ChecklistLine,
    MaterialStatus,
    Outcome,
    auto_approvable,
    deferral_allowed,
    status_problem,
    verdict,
)

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
