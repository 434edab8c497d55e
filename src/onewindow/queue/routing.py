"""Routing policies (pure): which waiting ticket a window calls next.

One module, used by the live queue ("call next" at the clerk's workbench) and by the simulator,
so both run the same code. A clerk never chooses: the hall's policy does.

Interface
---------
* Times are plain floats in **minutes** on one common origin per call. The live queue converts
  its aware datetimes with :func:`to_minutes` (minutes since the Unix epoch, one division per
  ticket); the simulator uses minutes since midnight. Only differences of times are used, so
  any origin works if it is the same for ``now`` and every ticket.
* :class:`WaitingTicket` is the view of a queued ticket (states ``waiting`` and ``transferred``),
  :class:`WindowView` the view of the window that asks. ``expected_service_min`` is the caller's
  estimate of the service time by category and item (a history average), never the real duration.
* ``policy.pick(window, waiting, now)`` returns one ticket of ``waiting`` or ``None`` when the
  window has nothing it may serve. It does not mutate anything. Ties go to the ticket earlier in
  ``waiting``, so pass tickets in issue order.
* :func:`make_policy` builds a policy from its name (the hall setting) and optional parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from onewindow.core.errors import Problem, ValidationFailed
from onewindow.queue.states import TicketClass

Minutes = float


def to_minutes(at: dt.datetime) -> Minutes:
    """An aware datetime as minutes since the Unix epoch, the time scale the live queue feeds policies."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("routing times must be timezone-aware")
    return at.timestamp() / 60


class WindowKind(StrEnum):
    """Window type (窗口类型)."""

    COMPREHENSIVE = "comprehensive"
    DEPARTMENT = "department"
    ELDERLY = "elderly"
    BUNDLE = "bundle"
    COMPLAINT = "complaint"
    ASSISTED = "assisted"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return WINDOW_KIND_LABELS[self]


WINDOW_KIND_LABELS: dict[WindowKind, str] = {
    WindowKind.COMPREHENSIVE: "综合窗口",
    WindowKind.DEPARTMENT: "部门窗口",
    WindowKind.ELDERLY: "老年人窗口",
    WindowKind.BUNDLE: "一件事窗口",
    WindowKind.COMPLAINT: "有诉即办窗口",
    WindowKind.ASSISTED: "帮办代办窗口",
}


@dataclass(frozen=True, slots=True)
class WaitingTicket:
    """A queued ticket as the policies see it.

    ``queued_at``: when its place in line counts from (issue time; re-queue time after 过号; the
    original or the transfer time after a transfer, by hall setting). ``appointment_at``: the booked
    slot start of a 预约 ticket. ``expected_service_min``: estimate by category and item.
    """

    key: str
    category: str
    queued_at: Minutes
    expected_service_min: Minutes
    ticket_class: TicketClass = TicketClass.NORMAL
    appointment_at: Minutes | None = None
    item_code: str = ""


@dataclass(frozen=True, slots=True)
class WindowView:
    """The window asking for its next ticket.

    ``skills``: categories its clerk may serve, preferred first (一岗多能). ``home``: its own
    department's categories, served at specialist speed; the dedicated policy serves only these;
    empty means all skills are home (a comprehensive window). ``flexible``: a 潮汐窗口 whose
    categories follow queue pressure under the tidal policy.
    """

    key: str
    skills: tuple[str, ...]
    home: tuple[str, ...] = ()
    kind: WindowKind = WindowKind.DEPARTMENT
    flexible: bool = False

    @property
    def home_categories(self) -> tuple[str, ...]:
        """Categories served at specialist speed (all skills when no home is set)."""
        return self.home or self.skills


class RoutingPolicy(Protocol):
    """Chooses the ticket a window calls next.

    Contract: ``pick`` returns ``None`` only when the window may serve none of ``waiting`` (the
    policies are work-conserving); the simulator relies on it to ask idle windows only on arrivals.
    """

    @property
    def name(self) -> str:
        """Registry name, the value of the hall setting."""
        ...

    def pick(self, window: WindowView, waiting: Sequence[WaitingTicket], now: Minutes) -> WaitingTicket | None:
        """The ticket ``window`` should call at ``now``, or None if it may serve none of ``waiting``."""
        ...


MIN_SERVICE_MIN = 0.5  # floor for an expected service time, so a missing estimate cannot divide by zero


def _require_positive(policy: str, **values: float) -> None:
    bad = [name for name, value in values.items() if not value > 0]
    if bad:
        raise ValidationFailed([Problem(f"routing_policy.{name}", "out_of_range",
                                        f"分派策略 {policy} 的参数 {name} 必须大于 0") for name in bad])


def _fifo(categories: tuple[str, ...], waiting: Sequence[WaitingTicket]) -> WaitingTicket | None:
    best: WaitingTicket | None = None
    for t in waiting:
        if t.category in categories and (best is None or t.queued_at < best.queued_at):
            best = t
    return best


@dataclass(frozen=True, slots=True)
class DedicatedFifo:
    """分类专窗: each category only at its own windows, first come first served."""

    name: ClassVar[str] = "dedicated"

    def pick(self, window: WindowView, waiting: Sequence[WaitingTicket], now: Minutes) -> WaitingTicket | None:
        """Oldest ticket of the window's home categories."""
        return _fifo(window.home_categories, waiting)


@dataclass(frozen=True, slots=True)
class PooledFifo:
    """综合窗口 无差别受理: one line for the hall; a window takes the oldest ticket it may serve."""

    name: ClassVar[str] = "pooled"

    def pick(self, window: WindowView, waiting: Sequence[WaitingTicket], now: Minutes) -> WaitingTicket | None:
        """Oldest ticket among the window's skills."""
        return _fifo(window.skills, waiting)


@dataclass(frozen=True, slots=True)
class SmartPolicy:
    """智能分派: a generalised cμ rule with aging, a specialist preference and a hard cap.

    Each eligible ticket gets the index ``w · (1 + waited / aging_min) / s`` and the highest wins.
    ``s`` is its expected service time at this window (× ``generalist_factor`` outside the window's
    home); ``waited`` is ``now − queued_at``; ``w`` is the class weight, times ``home_weight`` for the
    window's own categories (a specialist keeps his own work, which the hall then does faster).

    * Short expected jobs first (shortest expected processing time) is what cuts the mean wait.
    * Aging: every index grows without bound with the wait, so long jobs are not starved; with
      ``aging_min`` = 5 a ticket that waited 10 minutes ranks like a fresh one three times shorter.
    * Hard cap: tickets that waited ``cap_min`` or more go before everything else, oldest first.
    * 爱心绿色通道 and VIP carry their weights; a 预约 ticket carries the appointment weight once its
      slot begins, unless it came more than ``appointment_grace_min`` late (then it is a normal one).

    Defaults: cap 45 minutes (three times the 15-minute target); aging and home weight chosen on
    simulated halls (see the simulation domain), not on one scenario.
    """

    name: ClassVar[str] = "smart"
    generalist_factor: float = 1.05
    aging_min: Minutes = 5.0
    cap_min: Minutes = 45.0
    home_weight: float = 1.5
    appointment_grace_min: Minutes = 10.0
    vip_weight: float = 2.0
    green_weight: float = 4.0
    appointment_weight: float = 2.0

    def __post_init__(self) -> None:
        _require_positive(self.name, aging_min=self.aging_min, cap_min=self.cap_min, home_weight=self.home_weight,
                          vip_weight=self.vip_weight, green_weight=self.green_weight,
                          appointment_weight=self.appointment_weight, generalist_factor=self.generalist_factor)

    def pick(self, window: WindowView, waiting: Sequence[WaitingTicket], now: Minutes) -> WaitingTicket | None:
        """Ticket with the highest aged, class-weighted index; the oldest overdue ticket first."""
        skills = window.skills
        home = window.home_categories
        factor = self.generalist_factor
        home_weight = self.home_weight
        inv_aging = 1.0 / self.aging_min
        cap_line = now - self.cap_min
        best: WaitingTicket | None = None
        best_index = -1.0
        overdue: WaitingTicket | None = None
        for t in waiting:
            category = t.category
            if category not in skills:
                continue
            queued_at = t.queued_at
            if queued_at <= cap_line:
                if overdue is None or queued_at < overdue.queued_at:
                    overdue = t
                continue
            if overdue is not None:
                continue
            weight = 1.0 if t.ticket_class is TicketClass.NORMAL else self._class_weight(t, now)
            service = t.expected_service_min if t.expected_service_min > MIN_SERVICE_MIN else MIN_SERVICE_MIN
            if category in home:
                weight *= home_weight
            else:
                service *= factor
            index = weight * (1.0 + (now - queued_at) * inv_aging) / service
            if index > best_index:
                best, best_index = t, index
        return overdue if overdue is not None else best

    def _class_weight(self, t: WaitingTicket, now: Minutes) -> float:
        if t.ticket_class is TicketClass.GREEN:
            return self.green_weight
        if t.ticket_class is TicketClass.VIP:
            return self.vip_weight
        slot = t.appointment_at
        if slot is None or now < slot or t.queued_at > slot + self.appointment_grace_min:
            return 1.0  # no slot, slot not begun yet, or came late: a normal ticket
        return self.appointment_weight


@dataclass(frozen=True, slots=True)
class TidalPolicy:
    """潮汐窗口: fixed windows serve their home; flexible windows follow the queue under most pressure.

    A category is under pressure when its queue holds more than ``queue_threshold`` tickets (the
    practice rule: open cross-window handling past 10) or its oldest ticket has waited
    ``wait_threshold_min`` (the 15-minute target). A flexible window serves the pressed category
    (among its skills) whose oldest ticket has waited longest; with none pressed, its home, then
    the oldest ticket it may serve. First come first served within a category.
    """

    name: ClassVar[str] = "tidal"
    queue_threshold: int = 10
    wait_threshold_min: Minutes = 15.0

    def __post_init__(self) -> None:
        _require_positive(self.name, wait_threshold_min=self.wait_threshold_min,
                          queue_threshold=self.queue_threshold + 1)

    def pick(self, window: WindowView, waiting: Sequence[WaitingTicket], now: Minutes) -> WaitingTicket | None:
        """Oldest ticket of the fixed home, or of the category under most pressure for a flexible window."""
        home = window.home_categories
        if not window.flexible:
            return _fifo(home, waiting)
        skills = window.skills
        counts: dict[str, int] = {}
        oldest: dict[str, WaitingTicket] = {}
        for t in waiting:
            category = t.category
            if category in skills:
                counts[category] = counts.get(category, 0) + 1
                head = oldest.get(category)
                if head is None or t.queued_at < head.queued_at:
                    oldest[category] = t
        if not oldest:
            return None
        pressed = [t for c, t in oldest.items()
                   if counts[c] > self.queue_threshold or now - t.queued_at >= self.wait_threshold_min]
        if pressed:
            return min(pressed, key=lambda t: t.queued_at)
        return _fifo(home, waiting) or min(oldest.values(), key=lambda t: t.queued_at)


POLICIES: dict[str, Callable[..., RoutingPolicy]] = {
    "dedicated": DedicatedFifo,
    "pooled": PooledFifo,
    "smart": SmartPolicy,
    "tidal": TidalPolicy,
}

POLICY_LABELS: dict[str, str] = {
    "dedicated": "分类专窗（先到先服务）",
    "pooled": "综合窗口（先到先服务）",
    "smart": "智能分派",
    "tidal": "潮汐窗口",
}


def make_policy(name: str, params: Mapping[str, Any] | None = None) -> RoutingPolicy:
    """The policy a hall setting names, with its optional parameters; unknown names are refused."""
    factory = POLICIES.get(name)
    if factory is None:
        allowed = "、".join(POLICIES)
        raise ValidationFailed([Problem("routing_policy", "unknown_policy",
                                        f"未知的分派策略：{name}，可选：{allowed}")])
    try:
        return factory(**(params or {}))
    except TypeError as exc:  # an unknown parameter name
        raise ValidationFailed([Problem("routing_policy", "bad_policy_params",
                                        f"分派策略 {name} 的参数无效：{exc}")]) from exc
