"""电子证照 API (/api/v1): lookup by holder (staff; the ID number in a POST body, never the URL), public
verification, revocation (admin).

Thin edges: parse, authorise, call ``certificates.service``; the request's unit of work commits.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from onewindow.certificates import service
from onewindow.certificates.schemas import CertificateOut, LookupIn, RevokeIn, VerificationOut
from onewindow.core import audit
from onewindow.core.access import Action
from onewindow.core.clock import today
from onewindow.core.errors import DomainError
from onewindow.core.personal import mask_text
from onewindow.deps import ClockDep, CurrentAuth, DbSession, LookupGuardDep

router = APIRouter(tags=["certificates"])


@router.post("/certificates/lookup", response_model=list[CertificateOut],
             summary="按持证主体查询电子证照（证件号码放在请求体中）")
def lookup(body: LookupIn, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> list[CertificateOut]:
    """The holder's certificates with their state on the day (all, or only the usable ones). A POST so that
    no ID number travels in the URL (browser history, proxies, the access log); it writes nothing."""
    auth.require(Action.CERTIFICATE_LOOKUP)
    day = body.on or today(clock)
    rows = (service.usable_certificates(session, holder_id=body.holder_id, on=day) if body.usable_only
            else service.certificates_of(session, holder_id=body.holder_id))
    audit.record_read(session, clock=clock, actor=auth.actor, what="certificate_lookup",
                      entity_type="certificate_holder", entity_id=mask_text(body.holder_id),
                      detail={"certificates": len(rows)})
    return [CertificateOut.of(c, day) for c in rows]


@router.get("/certificates/verify", response_model=VerificationOut, summary="电子证照核验（公开）",
            responses={404: {"description": "编号或校验码不符（不说明是哪一项）"}})
def verify(session: DbSession, clock: ClockDep, guard: LookupGuardDep,
           number: Annotated[str, Query(max_length=60, description="证照编号")],
           check_code: Annotated[str, Query(max_length=12, description="校验码")]) -> VerificationOut:
    """Public: the masked certificate for a number and its check code, or one 404 for any mismatch."""
    guard.check()
    view = service.verify(session, number=number, check_code=check_code, on=today(clock))
    if view is None:
        guard.failed()
        raise DomainError(code="certificate_not_verified", message=service.NOT_FOUND_MESSAGE, status=404)
    return VerificationOut.of(view)


@router.post("/certificates/{certificate_id}/revoke", response_model=CertificateOut, summary="注销电子证照")
def revoke(certificate_id: int, body: RevokeIn, auth: CurrentAuth, session: DbSession,
           clock: ClockDep) -> CertificateOut:
    """Revoke a certificate (center admin)."""
    auth.require(Action.CERTIFICATE_REVOKE)
    cert = service.revoke_certificate(session, clock=clock, actor=auth.actor, certificate_id=certificate_id,
                                      reason=body.reason)
    return CertificateOut.of(cert, today(clock))
