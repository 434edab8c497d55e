"""Message templates (消息模板) and opt-out links (退订链接). Pure.

Every message a citizen is sent is one :class:`MessageKind` with one Chinese template, so the wording lives in
one place; :func:`render` fills it (a missing field is a programming error, raised as ``KeyError``). An SMS to a
citizen ends with a link to unsubscribe (``/notify/opt-out/{token}``): the token names the phone number and is
signed with the server's secret (HMAC), so a link cannot be forged for someone else's number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum
from string import Formatter


class MessageKind(StrEnum):
    """What a message is about; the value is the outbox topic."""

    TICKET_SOON = "ticket.soon"  # 即将叫号
    BOOKING_REMINDER = "booking.reminder"  # 预约提醒
    CASE_ACCEPTED = "case.accepted"  # 已受理
    CORRECTION_NEEDED = "case.correction"  # 需补正
    RESULT_READY = "case.result_ready"  # 办理结果可领取 / 已寄出
    RATING_INVITATION = "rating.invitation"  # 邀请评价


@dataclass(frozen=True)
class Template:
    """A kind's Chinese name, subject and body (``str.format`` fields)."""

    label: str
    subject: str
    body: str

    @property
    def fields(self) -> frozenset[str]:
        """The fields the body needs."""
        return frozenset(name for _text, name, _spec, _conv in Formatter().parse(self.body) if name)


TEMPLATES: dict[MessageKind, Template] = {
    MessageKind.TICKET_SOON: Template("即将叫号", "即将叫号",
                                      "您的号票{ticket}前面还有{ahead}位，请留意{hall}叫号，过号需重新取号。"),
    MessageKind.BOOKING_REMINDER: Template("预约提醒", "预约提醒",
                                           "您已预约{day} {slot}在{hall}办理“{item}”，请携带身份证件按时到场签到。"),
    MessageKind.CASE_ACCEPTED: Template("受理通知", "办件已受理",
                                        "您申请的“{item}”已受理，办件编号{case}，承诺{due}前办结。{next}"),
    MessageKind.CORRECTION_NEEDED: Template("补正通知", "需补正材料",
                                            "您申请的“{item}”（{case}）需补正：{missing}。可网上上传或到窗口补交。"),
    MessageKind.RESULT_READY: Template("结果领取通知", "办理结果待领取",
                                       "您的办件{case}（{item}）办理结果已{where}。"),
    MessageKind.RATING_INVITATION: Template("评价邀请", "邀请您评价",
                                            "您的办件{case}已办结，欢迎评价本次服务：{link}"),
}

OPT_OUT_NOTE = " 退订回复链接：{link}"


def render(kind: MessageKind, fields: dict[str, str], *, opt_out_link: str = "") -> tuple[str, str]:
    """The subject and body of a message of ``kind`` with ``fields`` (and the opt-out link, when given)."""
    template = TEMPLATES[kind]
    missing = template.fields - set(fields)
    if missing:
        raise KeyError(f"{kind.value} needs {sorted(missing)}")
    body = template.body.format(**fields)
    if opt_out_link:
        body += OPT_OUT_NOTE.format(link=opt_out_link)
    return template.subject, body


def _sign(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), f"opt-out:{body}".encode(), hashlib.sha256).digest()[:9]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def opt_out_token(secret: str, phone: str) -> str:
    """``13812345678-AbCdEfGhIjKl``: the phone and a 72-bit signature."""
    return f"{phone}-{_sign(secret, phone)}"


def read_opt_out_token(secret: str, token: str) -> str | None:
    """The phone a token names, or None when malformed or forged."""
    phone, sep, signature = (token or "").partition("-")
    if not sep or not phone.isdigit() or not 5 <= len(phone) <= 20:
        return None
    return phone if hmac.compare_digest(_sign(secret, phone), signature) else None
