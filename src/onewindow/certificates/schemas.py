"""API shapes of the certificates domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from onewindow.certificates.models import Certificate
from onewindow.certificates.rules import masked_data
from onewindow.certificates.service import STATUS_LABELS, PublicView, state_on
from onewindow.core.ids import mask_id_number


class CertificateOut(BaseModel):
    """A certificate as staff see it (they look holders up by the whole ID, so it is shown whole)."""

    id: int
    type: str
    type_name: str
    number: str
    holder_id: str
    holder_name: str
    issuer: str
    issued_date: dt.date
    expires_date: dt.date | None = Field(description="有效期截止日期；null 表示长期有效")
    status: str = Field(description="valid / revoked（登记状态）")
    state: str = Field(description="valid / expired / revoked（查询日的状态）")
    state_label: str
    revoked_at: dt.datetime | None
    revoked_reason: str
    source: str
    data: dict[str, Any]

    @classmethod
    def of(cls, c: Certificate, on: dt.date) -> CertificateOut:
        """From a row, with its state on a day."""
        state = state_on(c, on)
        return cls(id=c.id, type=c.type.code, type_name=c.type.name, number=c.number, holder_id=c.holder_id,
                   holder_name=c.holder_name, issuer=c.issuer, issued_date=c.issued_date, expires_date=c.expires_date,
                   status=c.status, state=state, state_label=STATUS_LABELS[state], revoked_at=c.revoked_at,
                   revoked_reason=c.revoked_reason, source=c.source,
                   data=masked_data(c.data or {}, mask_id_number))


class VerificationOut(BaseModel):
    """The public answer of a verification (person holders masked)."""

    type: str
    type_name: str
    number: str
    holder_name: str
    holder_id: str
    issuer: str
    issued_date: dt.date
    expires_date: dt.date | None
    state: str
    status_label: str = Field(description="有效 / 已过期 / 已注销")

    @classmethod
    def of(cls, v: PublicView) -> VerificationOut:
        """From the service's public view."""
        return cls(type=v.type_code, type_name=v.type_name, number=v.number, holder_name=v.holder_name,
                   holder_id=v.holder_id, issuer=v.issuer, issued_date=v.issued_date, expires_date=v.expires_date,
                   state=v.state, status_label=v.status_label)


class RevokeIn(BaseModel):
    """Why a certificate is revoked."""

    reason: str = Field(min_length=1, max_length=500)


class LookupIn(BaseModel):
    """按持证主体查询的条件。证件号码放在请求体中，不进入 URL（浏览器历史、代理和访问日志）。"""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    holder_id: str = Field(min_length=1, max_length=30, pattern=r"^[^\x00]*$",
                           description="公民身份号码或统一社会信用代码")
    usable_only: bool = Field(False, description="只返回当日有效（未过期、未注销）的证照")
    on: dt.date | None = Field(None, description="查询日，默认今天")
