"""Staff accounts, sign-in, web sessions and API tokens."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onewindow.catalog.models import Department, Hall
from onewindow.core import access, audit, security
from onewindow.core.access import Role, Viewer
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.core.errors import NotAuthenticated, Problem, ValidationFailed
from onewindow.core.ids import mask_phone, validate_id_number
from onewindow.staff.models import ApiToken, User, WebSession

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
    if len(password) < security.MIN_PASSWORD_LENGTH:
        problems.append(Problem("password", "password_too_short",
                                f"密码至少{security.MIN_PASSWORD_LENGTH}位"))
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
                is_active=True,
                created_at=clock.now())
    session.add(user)
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="staff.user_created", entity_type="user",
                 entity_id=user.id, after=user_snapshot(user))
    return user


def authenticate(session: Session, *, clock: Clock, username: str, password: str) -> User:
    """The active user with these credentials, or 401 (same message whichever part was wrong)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        security.burn_verify_time(password)
        raise NotAuthenticated("用户名或密码错误")
    if not security.verify_password(user.password_hash, password) or not user.is_active:
        raise NotAuthenticated("用户名或密码错误")
    user.last_login_at = clock.now()
    return user


def start_session(session: Session, *, clock: Clock, user: User, hours: int) -> tuple[str, WebSession]:
    """Open a browser session; returns the raw cookie token (shown once) and the stored row."""
    token = security.new_token()
    now = clock.now()
    row = WebSession(token_hash=security.token_hash(token), user_id=user.id, csrf_token=secrets.token_urlsafe(24),
                     created_at=now, expires_at=now + dt.timedelta(hours=hours))
    session.add(row)
    session.flush()
    audit.record(session, clock=clock, actor=actor_of(user), action="staff.login", entity_type="user",
                 entity_id=user.id)
    return token, row


def resolve_session(session: Session, *, clock: Clock, token: str) -> WebSession | None:
    """The live session for a cookie token, or None."""
    row = session.scalar(select(WebSession).where(WebSession.token_hash == security.token_hash(token)))
    if row is None or row.expires_at <= clock.now() or not row.user.is_active:
        return None
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
    return row.user


def list_users(session: Session) -> list[User]:
    """All staff accounts, by username."""
    return list(session.scalars(select(User).order_by(User.username)))
