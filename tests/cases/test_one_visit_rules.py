"""Pure rules of 最多跑一次 (cases/visits.py): what counts as a visit, the delivery modes an item allows, the intake
choice's problems, and the words people read."""

from __future__ import annotations

import pytest

from onewindow.cases import visits
from onewindow.cases.kinds import DeliveryMethod, VisitKind
from onewindow.cases.visits import Visit, count_visits

PICKUP, MAIL, ELECTRONIC = DeliveryMethod.PICKUP, DeliveryMethod.MAIL, DeliveryMethod.ELECTRONIC


# ----- the visit count -------------------------------------------------------------------------------------------


def test_intake_then_online_supply_then_mail_is_one_visit() -> None:
    # the 容缺 case of the issue, done the one-visit way: only the intake was in person
    recorded = [Visit(VisitKind.INTAKE, ticket_id=7), Visit(visits.SUPPLY_ONLINE), Visit(DeliveryMethod.MAIL)]
    assert count_visits(recorded) == 1


def test_intake_window_supply_and_pickup_are_three_visits() -> None:
    # the same case as it went before: three trips
    recorded = [Visit(VisitKind.INTAKE, 1), Visit(VisitKind.SUPPLEMENT, 2), Visit(VisitKind.PICKUP, 3)]
    assert count_visits(recorded) == 3


def test_one_ticket_is_one_visit_however_often_it_is_recorded_or_linked() -> None:
    assert count_visits([Visit(VisitKind.INTAKE, 5), Visit(VisitKind.PICKUP, 5)], linked_tickets=[5, 5]) == 1
    assert count_visits([Visit(VisitKind.INTAKE, 5)], linked_tickets=[6]) == 2  # a ticket the queue linked


def test_visits_without_a_ticket_each_count() -> None:
    assert count_visits([Visit(VisitKind.INTAKE), Visit(VisitKind.PICKUP)]) == 2
    assert count_visits([]) == 0


@pytest.mark.parametrize("kind", [visits.SUPPLY_ONLINE, "mail", "electronic"])
def test_finishing_without_coming_back_is_never_a_visit(kind: str) -> None:
    assert not visits.counts_as_visit(kind)
    assert kind in visits.NOT_A_VISIT


@pytest.mark.parametrize("kind", list(VisitKind))
def test_every_in_person_kind_is_a_visit(kind: VisitKind) -> None:
    assert visits.counts_as_visit(kind)


# ----- what the item allows --------------------------------------------------------------------------------------


def test_pickup_only_when_the_item_promises_more_than_one_visit_and_issues_no_certificate() -> None:
    assert visits.delivery_modes(max_visits=2, online_depth=2, issues_certificate=False) == (PICKUP,)


def test_mail_when_the_item_promises_at_most_one_visit() -> None:
    assert visits.delivery_modes(max_visits=1, online_depth=2, issues_certificate=False) == (PICKUP, MAIL)
    assert visits.delivery_modes(max_visits=0, online_depth=3, issues_certificate=False) == (PICKUP, MAIL)


def test_electronic_for_full_online_items_or_an_e_certificate() -> None:
    assert visits.delivery_modes(max_visits=0, online_depth=4, issues_certificate=False) == (PICKUP, MAIL, ELECTRONIC)
    assert visits.delivery_modes(max_visits=2, online_depth=1, issues_certificate=True) == (PICKUP, ELECTRONIC)


def test_a_bundle_offers_what_every_member_offers() -> None:
    assert visits.common_modes([(PICKUP, MAIL, ELECTRONIC), (PICKUP, MAIL)]) == (PICKUP, MAIL)
    assert visits.common_modes([(PICKUP, ELECTRONIC), (PICKUP, MAIL)]) == (PICKUP,)
    assert visits.common_modes([]) == (PICKUP,)


# ----- the choice at intake --------------------------------------------------------------------------------------


def test_mail_without_an_address_is_refused_in_chinese() -> None:
    [problem] = visits.delivery_problems("mail", "  ", "", (PICKUP, MAIL))
    assert (problem.field, problem.code, problem.message) == ("delivery_address", "required",
                                                              "选择邮寄送达须填写邮寄地址")


def test_a_mode_the_item_does_not_offer_is_refused() -> None:
    [problem] = visits.delivery_problems("electronic", "", "", (PICKUP, MAIL))
    assert problem.code == "method_not_offered" and problem.message == "该事项不提供电子送达"
    [unknown] = visits.delivery_problems("drone", "", "", (PICKUP, MAIL))
    assert unknown.code == "invalid_method"


def test_too_long_address_and_recipient() -> None:
    found = visits.delivery_problems("mail", "路" * 201, "名" * 65, (PICKUP, MAIL))
    assert [p.field for p in found] == ["delivery_address", "delivery_recipient"]


def test_a_good_choice_has_no_problem_and_is_cleaned() -> None:
    assert visits.delivery_problems("mail", "获嘉县 亢村镇  1 号", "", (PICKUP, MAIL)) == []
    assert visits.delivery_problems("pickup", "", "", (PICKUP,)) == []
    assert visits.delivery_choice("mail", " 获嘉县  亢村镇 1 号 ", " 张伟 ") == visits.DeliveryChoice(
        MAIL, "获嘉县 亢村镇 1 号", "张伟")
    assert visits.delivery_choice("electronic", "ignored", "ignored") == visits.DeliveryChoice(ELECTRONIC)


# ----- words -----------------------------------------------------------------------------------------------------


def test_the_visit_line() -> None:
    assert visits.visit_line(1, 1) == "本件已跑动 1 次，承诺最多跑一次"
    assert visits.visit_line(0, 0) == "本件已跑动 0 次，承诺零跑动"
    assert visits.visit_line(3, 2) == "本件已跑动 3 次，承诺最多跑两次"
    assert visits.over_promise(2, 1) and not visits.over_promise(1, 1) and not visits.over_promise(1, 0)


def test_the_acceptance_message_says_how_to_finish_without_coming_back() -> None:
    text = visits.accepted_next_steps(deferred=["本人银行账户信息"], deferral_due="2026-10-14", supply_online=True,
                                      method="mail", address="获嘉县亢村镇1号")
    assert text == ("容缺材料（本人银行账户信息）请于2026-10-14前登录“我的办件”网上上传补交，无需再到窗口；"
                    "办理结果将邮寄至获嘉县亢村镇1号。")
    window = visits.accepted_next_steps(deferred=["a", "b"], deferral_due="2026-10-14", supply_online=False,
                                        method="pickup", address="")
    assert window == "容缺材料（a、b）请于2026-10-14前到窗口补交；办结后请到窗口领取办理结果。"
    assert visits.accepted_next_steps(deferred=[], deferral_due="", supply_online=True, method="electronic",
                                      address="") == "办理结果将电子送达，可在“我的办件”查看下载。"
    assert visits.accepted_next_steps(deferred=[], deferral_due="", supply_online=False, method="",
                                      address="") == ""
