"""Account pages: one's own password and API tokens (/account); accounts and tokens for the administrator
(/admin/users, /admin/tokens). Thin: the staff service checks the policy and audits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onewindow.core.access import Action, Record
from onewindow.core.errors import DomainError, Problem
from onewindow.deps import Auth, ClockDep, CurrentAuth, DbSession
from onewindow.staff import service
from onewindow.web import FieldErrors, FormDep, fmt_time, form_text, render

router = APIRouter(include_in_schema=False)

NOTICES = {"password": "密码已修改，其他设备上的登录已退出。", "revoked": "访问令牌已撤销。",
           "reset": "密码已重置，该账号的登录已全部退出。", "deactivated": "账号已停用：登录和访问令牌立即失效。",
           "reactivated": "账号已重新启用（原有访问令牌仍为撤销状态）。"}

TokenId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Username = Annotated[str, Path(min_length=1, max_length=64)]


def _account_page(request: Request, auth: Auth, session: DbSession, clock: ClockDep, *, done: str = "",
                  problems: list[Problem] | None = None, status_code: int = 200) -> Response:
    tokens = service.tokens_for(session, auth.viewer)
    return render(request, "staff/account.html", {
        "tokens": tokens, "now": clock.now(), "state": service.token_state, "notice": NOTICES.get(done, ""),
        "errors": FieldErrors.of(problems or []), "fmt_time": fmt_time}, auth=auth, status_code=status_code)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep, done: str = "") -> Response:
    """My account: change my password, my API tokens."""
    auth.require(Action.ACCOUNT_SELF, Record(owner_user_ids=frozenset({auth.user.id})))
    return _account_page(request, auth, session, clock, done=done[:20])


@router.post("/account/password", response_class=HTMLResponse)
def account_password(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                     posted: FormDep) -> Response:
    """Change my password (422 with the reasons on the form)."""
    auth.require(Action.ACCOUNT_SELF, Record(owner_user_ids=frozenset({auth.user.id})))
    new, again = form_text(posted, "new_password"), form_text(posted, "new_password_again")
    if new != again:
        return _account_page(request, auth, session, clock, status_code=422, problems=[
            Problem("new_password_again", "mismatch", "两次输入的新密码不一致")])
    try:
        service.change_password(session, clock=clock, user=auth.user, current=form_text(posted, "current_password"),
                                new=new, keep_session=auth.web_session)
    except DomainError as exc:
        return _account_page(request, auth, session, clock, problems=exc.problems, status_code=exc.status)
    return RedirectResponse("/account?done=password", status_code=303)


@router.post("/account/tokens/{token_id}/revoke")
def account_revoke(token_id: TokenId, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> Response:
    """Revoke one of my tokens."""
    service.revoke_token(session, clock=clock, viewer=auth.viewer, actor=auth.actor, token_id=token_id)
    return RedirectResponse("/account?done=revoked", status_code=303)


def _users_page(request: Request, auth: Auth, session: DbSession, *, done: str = "", target: str = "",
                problems: list[Problem] | None = None, status_code: int = 200) -> Response:
    return render(request, "staff/users.html", {
        "users": service.list_users(session), "notice": NOTICES.get(done, ""), "target": target,
        "errors": FieldErrors.of(problems or []), "fmt_time": fmt_time}, auth=auth, status_code=status_code)


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, auth: CurrentAuth, session: DbSession, done: str = "") -> Response:
    """Every account with its state; deactivate, reactivate, reset a password."""
    auth.require(Action.STAFF_MANAGE)
    return _users_page(request, auth, session, done=done[:20])


@router.post("/admin/users/{username}/{verb}", response_class=HTMLResponse)
def user_action(request: Request, username: Username, verb: str, auth: CurrentAuth, session: DbSession,
                clock: ClockDep, posted: FormDep) -> Response:
    """deactivate | reactivate | password (a new password typed by the administrator)."""
    auth.require(Action.STAFF_MANAGE)
    try:
        if verb == "deactivate":
            service.set_active(session, clock=clock, actor=auth.actor, username=username, active=False)
            done = "deactivated"
        elif verb == "reactivate":
            service.set_active(session, clock=clock, actor=auth.actor, username=username, active=True)
            done = "reactivated"
        elif verb == "password":
            service.reset_password(session, clock=clock, actor=auth.actor, username=username,
                                   password=form_text(posted, "password"))
            done = "reset"
        else:
            raise DomainError(code="not_found", message=f"未知操作：{verb[:20]}", status=404)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _users_page(request, auth, session, target=username, problems=exc.problems,
                           status_code=exc.status)
    return RedirectResponse(f"/admin/users?done={done}", status_code=303)


@router.get("/admin/tokens", response_class=HTMLResponse)
def tokens(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep, done: str = "") -> Response:
    """Every API token (newest first, at most 500): whose, since when, last used, state; revoke."""
    rows = service.tokens_for(session, auth.viewer, everyone=True)
    return render(request, "staff/tokens.html", {"tokens": rows, "now": clock.now(), "state": service.token_state,
                                                 "notice": NOTICES.get(done[:20], ""),
                                                 "fmt_time": fmt_time}, auth=auth)


@router.post("/admin/tokens/{token_id}/revoke")
def admin_revoke(token_id: TokenId, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> Response:
    """Revoke anyone's token."""
    auth.require(Action.TOKEN_MANAGE)
    service.revoke_token(session, clock=clock, viewer=auth.viewer, actor=auth.actor, token_id=token_id)
    return RedirectResponse("/admin/tokens?done=revoked", status_code=303)
