"""Staff API: exchange credentials for a token, who am I, one's password and tokens, staff accounts (admin)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from onewindow.core.access import Action, Record
from onewindow.core.ids import mask_phone
from onewindow.deps import ClockDep, CurrentAuth, DbSession, SettingsDep, client_address
from onewindow.staff import service
from onewindow.staff.models import ApiToken, User
from onewindow.staff.schemas import (
    AccountOut,
    Me,
    PasswordChange,
    PasswordReset,
    TokenOut,
    TokenRequest,
    TokenResponse,
    UserIn,
)

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


def _token_out(row: ApiToken, now: dt.datetime) -> TokenOut:
    return TokenOut(id=row.id, prefix=row.prefix, name=row.name, username=row.user.username,
                    created_at=row.created_at.isoformat(), expires_at=row.expires_at.isoformat(),
                    last_used_at=row.last_used_at.isoformat() if row.last_used_at else None,
                    revoked_at=row.revoked_at.isoformat() if row.revoked_at else None,
                    state=service.token_state(row, now))


def _account(user: User) -> AccountOut:
    return AccountOut(username=user.username, display_name=user.display_name, role=user.role,
                      is_active=user.is_active)


@router.post("/me/password", status_code=204, summary="修改本人密码")
def change_my_password(body: PasswordChange, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> Response:
    """Change one's own password; the user's other web sessions end."""
    auth.require(Action.ACCOUNT_SELF, Record(owner_user_ids=frozenset({auth.user.id})))
    service.change_password(session, clock=clock, user=auth.user, current=body.current_password,
                            new=body.new_password, keep_session=auth.web_session)
    return Response(status_code=204)


@router.get("/tokens", response_model=list[TokenOut], summary="访问令牌列表（本人；管理员可看全部）")
def list_tokens(auth: CurrentAuth, session: DbSession, clock: ClockDep, all: bool = False) -> list[TokenOut]:
    """One's own API tokens, or (``all=true``, administrator) everyone's, newest first."""
    now = clock.now()
    return [_token_out(t, now) for t in service.tokens_for(session, auth.viewer, everyone=all)]


@router.delete("/tokens/{token_id}", response_model=TokenOut, summary="撤销访问令牌")
def revoke_token(token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], auth: CurrentAuth, session: DbSession,
                 clock: ClockDep) -> TokenOut:
    """Revoke a token (one's own; an administrator anyone's): it stops at once."""
    row = service.revoke_token(session, clock=clock, viewer=auth.viewer, actor=auth.actor, token_id=token_id)
    return _token_out(row, clock.now())


Username = Annotated[str, Path(min_length=1, max_length=64)]


@router.post("/staff/{username}/password", response_model=AccountOut, summary="重置账号密码（管理员）")
def reset_password(username: Username, body: PasswordReset, auth: CurrentAuth, session: DbSession,
                   clock: ClockDep) -> AccountOut:
    """Set a new password for an account: its sessions end and a lockout is lifted."""
    auth.require(Action.STAFF_MANAGE)
    return _account(service.reset_password(session, clock=clock, actor=auth.actor, username=username,
                                           password=body.password))


@router.post("/staff/{username}/deactivate", response_model=AccountOut, summary="停用账号（管理员）")
def deactivate(username: Username, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> AccountOut:
    """Deactivate an account: its sessions and API tokens stop at once."""
    auth.require(Action.STAFF_MANAGE)
    return _account(service.set_active(session, clock=clock, actor=auth.actor, username=username, active=False))


@router.post("/staff/{username}/reactivate", response_model=AccountOut, summary="重新启用账号（管理员）")
def reactivate(username: Username, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> AccountOut:
    """Reactivate an account (its old tokens stay revoked)."""
    auth.require(Action.STAFF_MANAGE)
    return _account(service.set_active(session, clock=clock, actor=auth.actor, username=username, active=True))
