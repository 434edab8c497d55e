"""Kinds of things on a case (pure, standard library only): case kind, channel, decision, the rule that
decided, step status and outcome, extension status, delivery method and visit kind.

The database columns stay strings; a ``StrEnum`` member equals its value, so code compares with members
and the stored values do not change. ``label`` is the Chinese name shown to people.
"""

from __future__ import annotations

from enum import StrEnum


class CaseKind(StrEnum):
    """A plain application, a bundle (一件事) parent, or one of its sub-cases."""

    SINGLE = "single"
    BUNDLE = "bundle"
    SUB = "sub"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return {"single": "单件", "bundle": "一件事", "sub": "一件事分件"}[self.value]


class Channel(StrEnum):
    """Where the application came in."""

    WINDOW = "window"
    ONLINE = "online"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return {"window": "窗口受理", "online": "网上申报"}[self.value]


class Decision(StrEnum):
    """The outcome of a decided case (kept after delivery and archiving)."""

    APPROVED = "approved"
    DENIED = "denied"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return {"approved": "准予许可", "denied": "不予许可"}[self.value]

    @classmethod
    def of(cls, approve: bool) -> Decision:
        """APPROVED or DENIED."""
        return cls.APPROVED if approve else cls.DENIED


class DecidedByRule(StrEnum):
    """A decision taken by a rule rather than a person; the stored value is the Chinese name itself."""

    INSTANT = "秒批"  # every material verified from the certificate library, instant item
    DEFAULT_CONSENT = "缺席默认"  # a bundle's co-department let its deadline pass

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return self.value


class StepStatus(StrEnum):
    """A workflow step is still to do or done."""

    PENDING = "pending"
    DONE = "done"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return {"pending": "待办理", "done": "已完成"}[self.value]


class StepOutcome(StrEnum):
    """How a done step ended."""

    AGREE = "agree"
    DISAGREE = "disagree"
    SKIPPED = "skipped"  # an optional （必要时） step, or a step after a denial
    DEFAULT = "default"  # 缺席默认: deemed to agree


class ExtensionStatus(StrEnum):
    """An extension (延期) request and its answer."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


class DeliveryMethod(StrEnum):
    """How the result goes out."""

    PICKUP = "pickup"
    MAIL = "mail"
    ELECTRONIC = "electronic"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return {"pickup": "窗口领取", "mail": "邮寄送达", "electronic": "电子送达"}[self.value]


class VisitKind(StrEnum):
    """Why the applicant came in person (跑动)."""

    INTAKE = "intake"
    SUPPLEMENT = "supplement"
    PICKUP = "pickup"
    CONSULT = "consult"
