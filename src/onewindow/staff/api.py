"""Staff API: exchange credentials for a token, who am I, staff accounts (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from onewindow.core.access import Action
from onewindow.core.ids import mask_phone
from onewindow.deps import ClockDep, CurrentAuth, DbSession, SettingsDep, client_address
from onewindow.staff import service
from onewindow.staff.models import User
from onewindow.staff.schemas import Me, TokenRequest, TokenResponse, UserIn

router = APIRouter(tags=["staff"])


def _me(user: User) -> Me:
    return Me(username=user.username, display_name=user.display_name, role=user.role,
              department=user.department.code if user.department else None,
              hall=user.hall.code if user.hall else None,
              phone=mask_phone(user.phone) if user.phone else None)


@router.post("/auth/token", response_model=TokenResponse, summary="用户名密码换取访问令牌")
def issue_token(request: Request, body: TokenRequest, session: DbSession, clock: ClockDep,
                settings: SettingsDep) -> TokenResponse:
    """Exchange a username and password for a bearer token."""
    user = service.authenticate(session, clock=clock, username=body.username, password=body.password,
                                address=client_address(request), throttle=service.throttle_of(settings))
    token, row = service.issue_api_token(session, clock=clock, user=user, name=body.name,
                                         days=settings.api_token_days)
    return TokenResponse(access_token=token, expires_at=row.expires_at.isoformat())


@router.get("/me", response_model=Me, summary="当前用户")
def me(auth: CurrentAuth) -> Me:
    """The signed-in user."""
    return _me(auth.user)


@router.get("/staff", response_model=list[Me], summary="工作人员列表（管理员）")
def list_staff(auth: CurrentAuth, session: DbSession) -> list[Me]:
    """All staff accounts."""
    auth.require(Action.STAFF_MANAGE)
    return [_me(u) for u in service.list_users(session)]


@router.post("/staff", response_model=Me, status_code=201, summary="新建工作人员账号（管理员）")
def create_staff(body: UserIn, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> Me:
    """Create a staff account."""
    auth.require(Action.STAFF_MANAGE)
    user = service.create_user(session, clock=clock, actor=auth.actor, username=body.username,
                               password=body.password, display_name=body.display_name, role=body.role,
                               department_code=body.department, hall_code=body.hall, phone=body.phone)
    return _me(user)
