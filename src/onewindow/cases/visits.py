"""Pure rules of 最多跑一次: what counts as a visit (跑动), how a case's visits add up, which ways of finishing
without coming back an item allows (网上补交容缺材料, 邮寄 or 电子送达 of the result), the choice made at intake,
and the line shown to people ("本件已跑动 1 次，承诺最多跑一次").

No database and no web framework: the service feeds plain values in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from onewindow.cases.kinds import DeliveryMethod, VisitKind
from onewindow.core.errors import Problem

# Every in-person interaction counts: intake at a window, handing in materials at a window, pickup, a consultation.
IN_PERSON = frozenset({VisitKind.INTAKE, VisitKind.SUPPLEMENT, VisitKind.PICKUP, VisitKind.CONSULT})
# What finishes a case without coming back, so is never a visit: a 容缺 material uploaded online, a result
# sent by mail or electronically.
SUPPLY_ONLINE = "supply_online"
NOT_A_VISIT = frozenset({SUPPLY_ONLINE, DeliveryMethod.MAIL.value, DeliveryMethod.ELECTRONIC.value})

ADDRESS_MAX = 200
RECIPIENT_MAX = 64


def counts_as_visit(kind: str) -> bool:
    """True for an in-person interaction (a :class:`VisitKind`); online supply, mail and e-delivery are not."""
    return kind in IN_PERSON


@dataclass(frozen=True)
class Visit:
    """One recorded interaction: its kind and the queue ticket it came under (None: no ticket)."""

    kind: str
    ticket_id: int | None = None


def count_visits(visits: Iterable[Visit], linked_tickets: Iterable[int] = ()) -> int:
    """跑动次数: in-person interactions, one per queue ticket however often it is linked (a ticket the queue
    linked to the case by number is a visit too); an interaction without a ticket counts on its own."""
    tickets = set(linked_tickets)
    untracked = 0
    for v in visits:
        if not counts_as_visit(v.kind):
            continue
        if v.ticket_id is None:
            untracked += 1
        else:
            tickets.add(v.ticket_id)
    return len(tickets) + untracked


def delivery_modes(*, max_visits: int, online_depth: int, issues_certificate: bool) -> tuple[DeliveryMethod, ...]:
    """How an item's result may go out, from its catalog fields (the catalog has no delivery field of its own).

    Pickup always. 邮寄 when the item promises at most one visit (到现场次数 ≤ 1): the one visit is the
    intake, so the result must be able to come by post. 电子送达 when the item is 全程网办 (网办深度四级) or its
    result is an e-certificate (电子证照) issued into the library.
    """
    modes = [DeliveryMethod.PICKUP]
    if max_visits <= 1:
        modes.append(DeliveryMethod.MAIL)
    if online_depth >= 4 or issues_certificate:
        modes.append(DeliveryMethod.ELECTRONIC)
    return tuple(modes)


def common_modes(per_item: Sequence[Sequence[DeliveryMethod]]) -> tuple[DeliveryMethod, ...]:
    """A bundle's results go out together (统一送达): only the modes every member allows."""
    if not per_item:
        return (DeliveryMethod.PICKUP,)
    return tuple(m for m in DeliveryMethod if all(m in modes for modes in per_item))


@dataclass(frozen=True)
class DeliveryChoice:
    """How the applicant wants the result, chosen at intake (cleaned)."""

    method: DeliveryMethod
    address: str = ""
    recipient: str = ""


def delivery_choice(method: str, address: str, recipient: str) -> DeliveryChoice:
    """The intake's delivery choice, cleaned (check it with :func:`delivery_problems` first); an address is kept
    only for mail."""
    m = DeliveryMethod(method) if method in {d.value for d in DeliveryMethod} else DeliveryMethod.PICKUP
    if m is not DeliveryMethod.MAIL:
        return DeliveryChoice(m)
    return DeliveryChoice(m, " ".join(address.split()), " ".join(recipient.split()))


def delivery_problems(method: str, address: str, recipient: str,
                      allowed: Sequence[DeliveryMethod]) -> list[Problem]:
    """What is wrong with a delivery choice at intake: an unknown mode, one the item does not allow, mail without
    an address, text too long."""
    values = {d.value for d in DeliveryMethod}
    if method not in values:
        return [Problem("delivery_method", "invalid_method", "送达方式应为窗口领取、邮寄或电子送达")]
    chosen = DeliveryMethod(method)
    if chosen not in allowed:
        return [Problem("delivery_method", "method_not_offered", f"该事项不提供{chosen.label}")]
    if chosen is not DeliveryMethod.MAIL:
        return []
    problems = []
    clean_address = " ".join(address.split())
    if not clean_address:
        problems.append(Problem("delivery_address", "required", "选择邮寄送达须填写邮寄地址"))
    elif len(clean_address) > ADDRESS_MAX:
        problems.append(Problem("delivery_address", "too_long", f"邮寄地址不能超过 {ADDRESS_MAX} 个字"))
    if len(" ".join(recipient.split())) > RECIPIENT_MAX:
        problems.append(Problem("delivery_recipient", "too_long", f"收件人不能超过 {RECIPIENT_MAX} 个字"))
    return problems


CHINESE_DIGITS = {0: "零", 1: "一", 2: "两", 3: "三", 4: "四", 5: "五"}


def promise_text(max_visits: int) -> str:
    """The item's promise in words: 承诺零跑动, 承诺最多跑一次, 承诺最多跑两次 …"""
    if max_visits <= 0:
        return "承诺零跑动"
    return f"承诺最多跑{CHINESE_DIGITS.get(max_visits, str(max_visits))}次"


def visit_line(visits: int, max_visits: int) -> str:
    """本件已跑动 N 次，承诺最多跑一次."""
    return f"本件已跑动 {visits} 次，{promise_text(max_visits)}"


def over_promise(visits: int, max_visits: int) -> bool:
    """More visits than the item promises (a zero-visit item still needs its one intake visit if taken at a
    window, so the promise is at least one)."""
    return visits > max(max_visits, 1)


def accepted_next_steps(*, deferred: Sequence[str], deferral_due: str, supply_online: bool, method: str,
                        address: str) -> str:
    """What the acceptance message tells the applicant to do next, so that nobody comes back for nothing: how the
    容缺 materials are supplied (online on “我的办件”, or at a window) and how the result comes (``method`` empty:
    nothing was chosen, as for an online application, so nothing is said about it)."""
    parts = []
    if deferred:
        names = "、".join(deferred)
        if supply_online:
            parts.append(f"容缺材料（{names}）请于{deferral_due}前登录“我的办件”网上上传补交，无需再到窗口")
        else:
            parts.append(f"容缺材料（{names}）请于{deferral_due}前到窗口补交")
    if method == DeliveryMethod.MAIL.value:
        parts.append(f"办理结果将邮寄至{address}")
    elif method == DeliveryMethod.ELECTRONIC.value:
        parts.append("办理结果将电子送达，可在“我的办件”查看下载")
    elif method == DeliveryMethod.PICKUP.value:
        parts.append("办结后请到窗口领取办理结果")
    return "；".join(parts) + "。" if parts else ""
