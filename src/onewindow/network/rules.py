"""Pure rules of 流转 (transfers between a town/village receiving point and the handling department).

A case received at a town center or a village point (代收代办) keeps its paper file there until it is sent to the
handling department, which signs for it; once decided, the result travels back the same way for pickup at the
receiving point — unless it is mailed or delivered electronically. Each way (``Leg``) is sent once and signed
for once: its moves are in :data:`ALLOWED`, checked by :func:`check_transition`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from onewindow.core.errors import Conflict


class Leg(StrEnum):
    """Which way the file travels."""

    MATERIALS = "materials"  # the paper materials: receiving point → handling department
    RESULT = "result"  # the result (licence, decision): handling department → receiving point

    @property
    def label(self) -> str:
        """Chinese name."""
        return {Leg.MATERIALS: "申请材料流转", Leg.RESULT: "办理结果回传"}[self]


class TransferState(StrEnum):
    """Where one leg is."""

    SENT = "sent"
    RECEIVED = "received"

    @property
    def label(self) -> str:
        """Chinese name."""
        return {TransferState.SENT: "已寄出", TransferState.RECEIVED: "已签收"}[self]


# (from, to): a leg is sent once (None → sent) and signed for once (sent → received); nothing moves back.
ALLOWED: frozenset[tuple[TransferState | None, TransferState]] = frozenset({
    (None, TransferState.SENT),  # the sender hands the file over with a note of who and when
    (TransferState.SENT, TransferState.RECEIVED),  # the other end signs for it
})

# levels whose halls receive for a department that sits in the county center (the county hall hands over in-house)
REMOTE_LEVELS: frozenset[str] = frozenset({"town", "village"})
# the result stays with the department and goes out directly when delivered these ways
DIRECT_DELIVERY: frozenset[str] = frozenset({"mail", "electronic"})


def check_transition(current: TransferState | None, target: TransferState, leg: Leg) -> None:
    """409 unless the leg may move from ``current`` to ``target``."""
    if (current, target) not in ALLOWED:
        if target is TransferState.SENT:
            raise Conflict(f"{leg.label}已寄出，不能重复寄出", code="transfer_already_sent")
        if current is None:
            raise Conflict(f"{leg.label}尚未寄出，无法签收", code="transfer_not_sent")
        raise Conflict(f"{leg.label}已签收", code="transfer_already_received")


def needs_transfer(hall_level: str | None) -> bool:
    """True when a case received at a hall of this level must send its paper file to the department."""
    return hall_level in REMOTE_LEVELS


def result_returns(delivery_method: str | None) -> bool:
    """True when the result comes back to the receiving point (not mailed, not electronic)."""
    return delivery_method not in DIRECT_DELIVERY


@dataclass(frozen=True)
class Location:
    """Where a case's file is now, in words, and whether it is on the way."""

    text: str
    moving: bool = False


def locate(*, hall: str, department: str, materials: TransferState | None, result: TransferState | None,
           delivery_method: str | None) -> Location:
    """Where the file of a case received at ``hall`` and handled by ``department`` is, given its legs."""
    if result is TransferState.RECEIVED:
        if delivery_method is not None:
            return Location(f"办理结果已在{hall}送达申请人")
        return Location(f"办理结果在{hall}，待申请人领取")
    if result is TransferState.SENT:
        return Location(f"办理结果回传中：{department} → {hall}", moving=True)
    if materials is TransferState.RECEIVED:
        if delivery_method in DIRECT_DELIVERY:
            how = "邮寄" if delivery_method == "mail" else "电子送达"
            return Location(f"申请材料在{department}，办理结果由部门直接{how}")
        return Location(f"申请材料在{department}")
    if materials is TransferState.SENT:
        return Location(f"申请材料流转中：{hall} → {department}", moving=True)
    return Location(f"申请材料在{hall}，待流转至{department}")
