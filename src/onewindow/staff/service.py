"""Staff accounts, sign-in, web sessions and API tokens."""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from onewindow.catalog.models import Department, Hall
from onewindow.config import Settings, get_settings
from onewindow.core import access, audit, security
from onewindow.core.access import Action, Record, Role, Viewer
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.core.errors import Conflict, DomainError, NotAuthenticated, NotFound, Problem, ValidationFailed
from onewindow.core.ids import mask_phone, validate_id_number
from onewindow.staff.models import ApiToken, LoginThrottle, User, WebSession

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")


def viewer_of(user: User) -> Viewer:
    """The access policy's view of a user."""
    return Viewer(user_id=user.id, role=Role(user.role), department_id=user.department_id, id_number=user.id_number)



def actor_of(user: User) -> Actor:
    """The audit view of a user."""
    return Actor(user.id, user.username)


def user_snapshot(user: User) -> dict[str, object]:
    """What the audit log keeps of a user (never the hash, phone masked)."""
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "department_id": user.department_id, "hall_id": user.hall_id, "is_active": user.is_active,
            "phone": mask_phone(user.phone) if user.phone else None}


def create_user(session: Session, *, clock: Clock, actor: Actor, username: str, password: str,
                display_name: str, role: str, department_code: str | None = None,
                hall_code: str | None = None, phone: str | None = None, id_number: str | None = None) -> User:
    """Create an account (staff, or an applicant with their 公民身份号码) after validating every field."""
    problems: list[Problem] = []
    if id_number:
        try:
            id_number = validate_id_number(id_number, field="id_number")
        except ValidationFailed as exc:
            problems.extend(exc.problems)
    elif (parsed := access.parse_role(role)) is not None and access.is_person_account(parsed):
        problems.append(Problem("id_number", "id_number_required", "申请人账号须填写公民身份号码"))
    if not USERNAME_RE.match(username):
        problems.append(Problem("username", "invalid_username", "用户名须为3-64位字母、数字、下划线、点或横线"))
    elif session.scalar(select(User.id).where(User.username == username)) is not None:
        problems.append(Problem("username", "duplicate_username", f"用户名已存在：{username}"))
    problems.extend(Problem("password", "weak_password", reason)
                    for reason in security.password_problems(password, username=username))
    if access.parse_role(role) is None:
        problems.append(Problem("role", "unknown_role", f"未知角色：{role}"))
    if not display_name.strip():
        problems.append(Problem("display_name", "required", "姓名不能为空"))
    department_id = hall_id = None
    if department_code:
        department_id = session.scalar(select(Department.id).where(Department.code == department_code))
        if department_id is None:
            problems.append(Problem("department", "unknown_department", f"未知部门编码：{department_code}"))
    elif (parsed := access.parse_role(role)) is not None and access.needs_department(parsed):
        problems.append(Problem("department", "department_required", "该角色必须指定所属部门"))
    if hall_code:
        hall_id = session.scalar(select(Hall.id).where(Hall.code == hall_code))
        if hall_id is None:
            problems.append(Problem("hall", "unknown_hall", f"未知大厅编码：{hall_code}"))
    if problems:
        raise ValidationFailed(problems)
    user = User(username=username, display_name=display_name.strip(), password_hash=security.hash_password(password),
                role=role, department_id=department_id, hall_id=hall_id, phone=phone, id_number=id_number or None,
                is_active=True, created_at=clock.now(), password_changed_at=clock.now())
    session.add(user)
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="staff.user_created", entity_type="user",
                 entity_id=user.id, after=user_snapshot(user))
    return user


@dataclass(frozen=True)
class Throttle:
    """The sign-in throttling settings (``Settings.login_*``)."""

    account_failures: int = 5
    address_failures: int = 20
    window_minutes: int = 15
    lockout_minutes: int = 15


class LoginLocked(DomainError):
    """Too many failed sign-ins for this account or from this address (HTTP 429)."""

    def __init__(self, minutes: int) -> None:
        super().__init__(code="login_locked", status=429,
                         message=f"登录失败次数过多，已暂时锁定，请 {minutes} 分钟后再试或联系管理员")


def _throttle_rows(session: Session, keys: list[str]) -> dict[str, LoginThrottle]:
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))
    return {r.key: r for r in rows}


def _throttle_keys(username: str, address: str) -> tuple[str, str]:
    return f"user:{username[:64]}", f"addr:{address[:100]}"


def authenticate(session: Session, *, clock: Clock, username: str, password: str, address: str = "unknown",
                 throttle: Throttle | None = None) -> User:
    """The active user with these credentials, or 401 (same message whichever part was wrong).

    Failures are counted per account and per client address (rows of ``staff_login_throttle``, so every
    worker sees them); past the limit within the window the account or the address is locked (429, no
    password is even checked) for the lockout. Every failure and every lockout is audited, and they are
    committed at once, so that the request's rollback cannot forget them.
    """
    throttle = throttle or Throttle()
    now = clock.now()
    user_key, addr_key = _throttle_keys(username, address)
    rows = _throttle_rows(session, [user_key, addr_key])
    locked = [r.locked_until for r in rows.values() if r.locked_until is not None and r.locked_until > now]
    if locked:
        minutes = max(1, math.ceil((max(locked) - now).total_seconds() / 60))
        audit.record(session, clock=clock, actor=Actor(None, "anonymous"), action="staff.login_refused",
                     entity_type="user", entity_id=username[:64], after={"address": address, "reason": "locked"})
        session.commit()
        raise LoginLocked(minutes)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        security.burn_verify_time(password)
        reason = "unknown_user"
    elif not security.verify_password(user.password_hash, password):
        reason = "wrong_password"
    elif not user.is_active:
        reason = "inactive"
    else:
        if user_key in rows:
            session.delete(rows[user_key])
        user.last_login_at = now
        return user
    _count_failure(session, clock=clock, throttle=throttle, username=username, address=address, reason=reason)
    session.commit()
    raise NotAuthenticated("用户名或密码错误")


def _throttle_row(session: Session, key: str, now: dt.datetime) -> LoginThrottle:
    # the row locked (created first if need be), so that failures counted at once by several workers all count
    stmt = (select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
            .execution_options(populate_existing=True))
    row = session.scalars(stmt).first()
    if row is None:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(LoginThrottle).values(key=key, failures=0, window_started_at=now)
                        .on_conflict_do_nothing(index_elements=[LoginThrottle.key]))
        row = session.scalars(stmt).one()
    return row


def _count_failure(session: Session, *, clock: Clock, throttle: Throttle, username: str, address: str,
                   reason: str) -> None:
    now = clock.now()
    window = dt.timedelta(minutes=throttle.window_minutes)
    anonymous = Actor(None, "anonymous")
    audit.record(session, clock=clock, actor=anonymous, action="staff.login_failed", entity_type="user",
                 entity_id=username[:64], after={"address": address, "reason": reason})
    user_key, addr_key = _throttle_keys(username, address)
    for key, limit in ((user_key, throttle.account_failures), (addr_key, throttle.address_failures)):
        row = _throttle_row(session, key, now)
        if row.window_started_at + window <= now:
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= limit and (row.locked_until is None or row.locked_until <= now):
            row.locked_until = now + dt.timedelta(minutes=throttle.lockout_minutes)
            audit.record(session, clock=clock, actor=anonymous, action="staff.login_locked",
                         entity_type="login_throttle", entity_id=key,
                         after={"failures": row.failures, "locked_until": row.locked_until})
    session.flush()


def unlock(session: Session, *, clock: Clock, actor: Actor, username: str) -> None:
    """Lift an account's lockout (an administrator's reset does it too)."""
    row = session.scalar(select(LoginThrottle).where(LoginThrottle.key == _throttle_keys(username, "")[0]))
    if row is not None:
        session.delete(row)
        audit.record(session, clock=clock, actor=actor, action="staff.login_unlocked", entity_type="user",
                     entity_id=username)


def purge_login_throttle(session: Session, *, clock: Clock, throttle: Throttle | None = None) -> int:
    """Delete the throttle rows that no longer count: their window is over and no lockout still runs (a
    sign-in would start such a row afresh anyway). Returns how many went."""
    throttle = throttle or Throttle()
    now = clock.now()
    stale = delete(LoginThrottle).where(
        LoginThrottle.window_started_at <= now - dt.timedelta(minutes=throttle.window_minutes),
        (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until <= now))
    return int(getattr(session.execute(stale), "rowcount", 0) or 0)


def purge_login_throttle_job(session: Session, *, clock: Clock) -> dict[str, int]:
    """The ``login-throttle-purge`` job (settings from the environment)."""
    return {"purged": purge_login_throttle(session, clock=clock, throttle=throttle_of(get_settings()))}


def throttle_of(settings: Settings) -> Throttle:
    """The sign-in throttling the settings ask for."""
    return Throttle(account_failures=settings.login_account_failures,
                    address_failures=settings.login_address_failures,
                    window_minutes=settings.login_window_minutes, lockout_minutes=settings.login_lockout_minutes)


def start_session(session: Session, *, clock: Clock, user: User, hours: int) -> tuple[str, WebSession]:
    """Open a browser session; returns the raw cookie token (shown once) and the stored row."""
    token = security.new_token()
    now = clock.now()
    row = WebSession(token_hash=security.token_hash(token), user_id=user.id, csrf_token=secrets.token_urlsafe(24),
                     created_at=now, expires_at=now + dt.timedelta(hours=hours), last_seen_at=now)
    session.add(row)
    session.flush()
    audit.record(session, clock=clock, actor=actor_of(user), action="staff.login", entity_type="user",
                 entity_id=user.id)
    return token, row


# last_seen_at is written at most this often, so that reads do not all become writes
SEEN_RESOLUTION = dt.timedelta(minutes=1)


def resolve_session(session: Session, *, clock: Clock, token: str, idle_minutes: int = 0) -> WebSession | None:
    """The live session for a cookie token, or None (expired, idle for ``idle_minutes``, or user deactivated)."""
    row = session.scalar(select(WebSession).where(WebSession.token_hash == security.token_hash(token)))
    now = clock.now()
    if row is None or row.expires_at <= now or not row.user.is_active:
        return None
    seen = row.last_seen_at or row.created_at
    if idle_minutes > 0 and seen + dt.timedelta(minutes=idle_minutes) <= now:
        return None
    if now - seen >= SEEN_RESOLUTION:
        row.last_seen_at = now
    return row


def end_session(session: Session, *, clock: Clock, web_session: WebSession) -> None:
    """Sign out: delete the session row."""
    audit.record(session, clock=clock, actor=actor_of(web_session.user), action="staff.logout",
                 entity_type="user", entity_id=web_session.user_id)
    session.execute(delete(WebSession).where(WebSession.id == web_session.id))


def issue_api_token(session: Session, *, clock: Clock, user: User, name: str, days: int) -> tuple[str, ApiToken]:
    """Create a bearer token for the API; the raw token is returned once and never stored."""
    token = security.new_token("ow_")
    now = clock.now()
    row = ApiToken(token_hash=security.token_hash(token), prefix=token[:10], name=name[:100] or "api",
                   user_id=user.id, created_at=now, expires_at=now + dt.timedelta(days=days))
    session.add(row)
    session.flush()
    audit.record(session, clock=clock, actor=actor_of(user), action="staff.token_issued", entity_type="api_token",
                 entity_id=row.id, after={"name": row.name, "prefix": row.prefix})
    return token, row


def resolve_api_token(session: Session, *, clock: Clock, token: str) -> User | None:
    """The user behind a live bearer token, or None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == security.token_hash(token)))
    now = clock.now()
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= SEEN_RESOLUTION:
        row.last_used_at = now
    return row.user


def list_users(session: Session) -> list[User]:
    """All staff accounts, by username."""
    return list(session.scalars(select(User).order_by(User.username)))


# ----- password, activation, tokens --------------------------------------------------------------------------


def _set_password(session: Session, *, clock: Clock, user: User, password: str, field: str) -> None:
    reasons = security.password_problems(password, username=user.username)
    if reasons:
        raise ValidationFailed([Problem(field, "weak_password", r) for r in reasons])
    user.password_hash = security.hash_password(password)
    user.password_changed_at = clock.now()


def change_password(session: Session, *, clock: Clock, user: User, current: str, new: str,
                    keep_session: WebSession | None = None) -> None:
    """Change one's own password: the current one must match; every other session of the user ends."""
    problems: list[Problem] = []
    if not security.verify_password(user.password_hash, current):
        problems.append(Problem("current_password", "wrong_password", "当前密码不正确"))
    problems.extend(Problem("new_password", "weak_password", r)
                    for r in security.password_problems(new, username=user.username))
    if not problems and current == new:
        problems.append(Problem("new_password", "same_password", "新密码不能与当前密码相同"))
    if problems:
        raise ValidationFailed(problems)
    _set_password(session, clock=clock, user=user, password=new, field="new_password")
    others = delete(WebSession).where(WebSession.user_id == user.id)
    if keep_session is not None:
        others = others.where(WebSession.id != keep_session.id)
    session.execute(others)
    audit.record(session, clock=clock, actor=actor_of(user), action="staff.password_changed", entity_type="user",
                 entity_id=user.id)


def get_user(session: Session, username: str) -> User:
    """The account with this username, or 404."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("账号", username, field="username")
    return user


def reset_password(session: Session, *, clock: Clock, actor: Actor, username: str, password: str) -> User:
    """An administrator sets a new password: the user's sessions end and a lockout is lifted."""
    user = get_user(session, username)
    _set_password(session, clock=clock, user=user, password=password, field="password")
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    audit.record(session, clock=clock, actor=actor, action="staff.password_reset", entity_type="user",
                 entity_id=user.id)
    unlock(session, clock=clock, actor=actor, username=username)
    return user


def set_active(session: Session, *, clock: Clock, actor: Actor, username: str, active: bool) -> User:
    """Deactivate (sessions deleted, tokens revoked: they stop at once) or reactivate an account. 409 when
    it already is so, or when an administrator would deactivate themself."""
    user = get_user(session, username)
    if user.is_active == active:
        state = "active" if active else "inactive"
        raise Conflict("账号已是启用状态" if active else "账号已停用", code=f"already_{state}")
    if not active and actor.id == user.id:
        raise Conflict("不能停用自己的账号", code="self_deactivate")
    before = user_snapshot(user)
    user.is_active = active
    revoked = 0
    if not active:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        revoked = _revoke_all(session, clock=clock, user_id=user.id)
    audit.record(session, clock=clock, actor=actor, action="staff.user_" + ("reactivated" if active else "deactivated"),
                 entity_type="user", entity_id=user.id, before=before,
                 after={**user_snapshot(user), "tokens_revoked": revoked})
    return user


def _revoke_all(session: Session, *, clock: Clock, user_id: int) -> int:
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None)))
    count = 0
    for row in rows:
        row.revoked_at = clock.now()
        count += 1
    return count


def list_tokens(session: Session, *, user_id: int | None = None, limit: int = 500) -> list[ApiToken]:
    """API tokens, newest first: one user's, or everyone's (``user_id`` None)."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query))


def get_token(session: Session, token_id: int) -> ApiToken:
    """One API token by id, or 404."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound("访问令牌", str(token_id), field="token_id")
    return row


def tokens_for(session: Session, viewer: Viewer, *, everyone: bool = False) -> list[ApiToken]:
    """The viewer's own tokens, or everyone's when asked and the policy lets them (403 otherwise)."""
    if everyone:
        access.require(viewer, Action.TOKEN_MANAGE)
        return list_tokens(session)
    access.require(viewer, Action.ACCOUNT_SELF, Record(owner_user_ids=frozenset({viewer.user_id})))
    return list_tokens(session, user_id=viewer.user_id)


def revoke_token(session: Session, *, clock: Clock, viewer: Viewer, actor: Actor, token_id: int) -> ApiToken:
    """Revoke a token at once: one's own, or anyone's with ``TOKEN_MANAGE`` (403 otherwise, 409 when it already
    is revoked). A token of someone else that the viewer may not manage is a 404, so ids reveal nothing."""
    token = get_token(session, token_id)
    if not access.can(viewer, Action.TOKEN_MANAGE):
        if token.user_id != viewer.user_id:
            raise NotFound("访问令牌", str(token_id), field="token_id")
        access.require(viewer, Action.ACCOUNT_SELF, Record(owner_user_ids=frozenset({token.user_id})))
    if token.revoked_at is not None:
        raise Conflict("访问令牌已撤销", code="already_revoked")
    token.revoked_at = clock.now()
    audit.record(session, clock=clock, actor=actor, action="staff.token_revoked", entity_type="api_token",
                 entity_id=token.id, after={"name": token.name, "prefix": token.prefix, "user_id": token.user_id})
    return token


def token_state(token: ApiToken, now: dt.datetime) -> str:
    """有效 / 已撤销 / 已过期."""
    if token.revoked_at is not None:
        return "已撤销"
    return "已过期" if token.expires_at <= now else "有效"
