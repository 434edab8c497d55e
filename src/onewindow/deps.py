"""FastAPI dependencies shared by every domain: database session, clock, current user, CSRF."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from onewindow import db
from onewindow.config import Settings
from onewindow.core import access, security
from onewindow.core.access import Action, Record, Viewer
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.core.errors import DomainError, NotAuthenticated
from onewindow.core.ratelimit import FailureLimiter
from onewindow.staff import service as staff_service
from onewindow.staff.models import User, WebSession

SESSION_COOKIE = "ow_session"
CSRF_COOKIE = "ow_csrf"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


async def write_turn(request: Request) -> AsyncIterator[None]:
    """A writing request takes one of this process's writer slots (SQLite only; ``db.WriterSlots``)."""
    slots: db.WriterSlots | None = getattr(request.app.state, "writer_slots", None)
    if slots is None or request.method in SAFE_METHODS:
        yield
        return
    async with slots.slot():
        yield


def get_db(request: Request, _turn: Annotated[None, Depends(write_turn, scope="function")]) -> Iterator[Session]:
    """One unit of work per request: committed before the response is sent, rolled back on error. A writer
    waits in a bounded number of threads (``write_turn``); on SQLite its first statement takes the writer's
    turn, handed back after COMMIT (``db.WriterLock``)."""
    with db.transaction(request.app.state.session_factory, write=request.method not in SAFE_METHODS) as session:
        yield session


# scope="function": the commit runs when the handler returns, before the response goes out,
# so a 2xx is durable (DESIGN rule 4).
DbSession = Annotated[Session, Depends(get_db, scope="function")]


async def read_unit(request: Request, work: Callable[[Session], Response]) -> Response:
    """A public read: ``work`` runs in a read-only unit of work (no writer slot, no writer's turn: nothing to
    commit) and builds its answer there. For the hottest reads that need no caller (a ticket's status, the hall
    state). On SQLite on the event loop itself (a read in WAL mode waits for no writer, and takes a few
    milliseconds of in-process work; see ``db.GroupCommit`` for why the loop is the place for those); on
    PostgreSQL in one worker thread (the network), in autocommit and without the pool's ping (``db.unpinged``: a
    read whose connection turns out lost reads again on a new one), one thread hop where ``DbSession`` and a sync
    handler take three."""
    factory = request.app.state.session_factory

    def unit() -> Response:
        with db.transaction(factory, write=False) as session:
            return work(session)

    def autocommit_unit() -> Response:
        # unpinged (a round trip less): a read that finds its pooled connection lost runs again on a new one
        with db.unpinged():
            try:
                return read_autocommit()
            except DBAPIError as exc:
                if not db.is_disconnect(exc):
                    raise
            return read_autocommit()

    def read_autocommit() -> Response:
        with factory() as session:
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            return work(session)

    bind = factory.kw["bind"]
    if bind.dialect.name == "sqlite":
        return unit()
    if isinstance(bind, Engine):
        return await run_in_threadpool(autocommit_unit)
    return await run_in_threadpool(unit)


def get_clock(request: Request) -> Clock:
    """The app's clock (tests inject a FixedClock)."""
    clock: Clock = request.app.state.clock
    return clock


def get_settings_dep(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


@dataclass
class Auth:
    """Who is calling and how: by bearer token (API) or by browser session (pages, HTMX)."""

    user: User
    web_session: WebSession | None

    @property
    def viewer(self) -> Viewer:
        """The access policy's view of the caller."""
        return staff_service.viewer_of(self.user)

    @property
    def actor(self) -> Actor:
        """The audit view."""
        return staff_service.actor_of(self.user)

    def can(self, action: Action, record: Record | None = None) -> bool:
        """True when the access policy lets the caller take the action (on that record)."""
        return access.can(self.viewer, action, record)

    def require(self, action: Action, record: Record | None = None, *, department_id: int | None = None) -> None:
        """403 unless the access policy lets the caller take the action (on that record or department's)."""
        if record is None and department_id is not None:
            record = Record(department=department_id)
        access.require(self.viewer, action, record)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def check_csrf(request: Request, expected: str | None) -> None:
    """Unsafe methods must echo the CSRF token in a form field or the X-CSRF-Token header."""
    if request.method in SAFE_METHODS:
        return
    supplied = request.headers.get("x-csrf-token")
    if supplied is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        supplied = value if isinstance(value, str) else None
    _require_csrf(expected, supplied)


def check_csrf_header(request: Request, expected: str | None) -> None:
    """``check_csrf`` for JSON endpoints, which have no form field: the token must come in X-CSRF-Token."""
    if request.method not in SAFE_METHODS:
        _require_csrf(expected, request.headers.get("x-csrf-token"))


def _require_csrf(expected: str | None, supplied: str | None) -> None:
    if not expected or not supplied or not security.same(expected, supplied):
        raise DomainError(code="csrf_failed", message="页面已过期或请求来源无效，请刷新页面后重试",
                          field="csrf_token", status=403)


def client_address(request: Request) -> str:
    """The calling client's address (behind a proxy: what the proxy headers middleware put there)."""
    return request.client.host if request.client else "unknown"


def resolve_caller(request: Request, session: Session, *, clock: Clock,
                   settings: Settings) -> tuple[Auth | None, str | None]:
    """The caller if signed in (token or cookie), else None; with the CSRF token a cookie caller must echo (None
    for token callers and anonymous ones). Synchronous: ``optional_auth`` and units of work that run outside a
    request's dependencies (``db.GroupCommit``) share it."""
    token = _bearer(request)
    if token is not None:
        user = staff_service.resolve_api_token(session, clock=clock, token=token)
        if user is None:
            raise NotAuthenticated("访问令牌无效或已过期")
        return _remember(request, Auth(user, None)), None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        web_session = staff_service.resolve_session(session, clock=clock, token=cookie,
                                                    idle_minutes=settings.session_idle_minutes)
        if web_session is not None:
            return _remember(request, Auth(web_session.user, web_session)), web_session.csrf_token
    return None, None


async def optional_auth(request: Request, session: DbSession, clock: ClockDep, settings: SettingsDep) -> Auth | None:
    """The caller if signed in (token or cookie), else None. Cookie callers pass the CSRF check."""
    auth, csrf_token = resolve_caller(request, session, clock=clock, settings=settings)
    if auth is not None and auth.web_session is not None:
        await check_csrf(request, csrf_token)
    return auth


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in, as plain values: error pages show it after the request's transaction is gone."""

    display_name: str
    role: str


def _remember(request: Request, auth: Auth) -> Auth:
    # an error page rendered after a rollback still knows who is signed in (its menu, its name)
    request.state.viewer = auth.viewer
    request.state.signed_in = SignedIn(auth.user.display_name, auth.user.role)
    return auth


async def current_auth(auth: Annotated[Auth | None, Depends(optional_auth)]) -> Auth:
    """The signed-in caller, or 401."""
    if auth is None:
        raise NotAuthenticated()
    return auth


OptionalAuth = Annotated[Auth | None, Depends(optional_auth)]
CurrentAuth = Annotated[Auth, Depends(current_auth)]


def require_action(action: Action) -> object:
    """A dependency that lets through only callers the access policy allows the action (403 otherwise)."""

    async def _dep(auth: CurrentAuth) -> Auth:
        auth.require(action)
        return auth

    return Depends(_dep)


def _lookup_limiter(request: Request) -> LookupGuard:
    limiter: FailureLimiter = request.app.state.lookup_limiter
    return LookupGuard(limiter, request.client.host if request.client else "unknown")


class LookupGuard:
    """Public lookups by a guessable secret (case number + ID tail, certificate number + check code): a client
    that keeps failing gets 429 for a while (``core.ratelimit``)."""

    def __init__(self, limiter: FailureLimiter, key: str) -> None:
        self.limiter, self.key = limiter, key

    def check(self) -> None:
        """Raise 429 when this client has failed too often."""
        self.limiter.check(self.key)

    def failed(self) -> None:
        """Count a failed lookup."""
        self.limiter.failed(self.key)


LookupGuardDep = Annotated[LookupGuard, Depends(_lookup_limiter)]
