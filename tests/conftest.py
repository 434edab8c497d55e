"""Test harness: one migrated database per run (SQLite, or PostgreSQL when asked), each test rolled back.

Select the backend with ``ONEWINDOW_TEST_BACKEND=postgres`` (uses ``ONEWINDOW_TEST_POSTGRES_URL``,
creates a uniquely named database on that server and drops it at the end).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from onewindow import db
from onewindow.config import Settings
from onewindow.core.clock import CHINA_TZ, FixedClock

BACKEND = os.environ.get("ONEWINDOW_TEST_BACKEND", "sqlite")
DEMO_PASSWORD = "Demo@2026"


def _pg_admin_url() -> str:
    url = os.environ.get("ONEWINDOW_TEST_POSTGRES_URL")
    if not url:
        raise pytest.UsageError("ONEWINDOW_TEST_BACKEND=postgres needs ONEWINDOW_TEST_POSTGRES_URL")
    return url


def _pg_url_for(database: str) -> str:
    base = _pg_admin_url()
    head, _, _ = base.rpartition("/")
    return f"{head}/{database}"


class DatabaseFactory:
    """Creates fresh, empty databases of the selected backend and removes them afterwards."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.created: list[tuple[str, Engine]] = []
        self.pg_names: list[str] = []

    def new_url(self, label: str = "db") -> str:
        """The URL of a new empty database."""
        if BACKEND == "postgres":
            name = f"ow_test_{os.getpid()}_{secrets.token_hex(4)}"
            admin = create_engine(db.make_engine(_pg_admin_url()).url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            self.pg_names.append(name)
            return _pg_url_for(name)
        return f"sqlite:///{self.tmp / f'{label}-{secrets.token_hex(4)}.db'}"

    def new_engine(self, label: str = "db") -> Engine:
        """A migrated engine on a new database."""
        url = self.new_url(label)
        engine = db.make_engine(url)
        db.upgrade(engine)
        self.created.append((url, engine))
        return engine

    def cleanup(self) -> None:
        """Dispose engines and drop PostgreSQL databases."""
        for _url, engine in self.created:
            engine.dispose()
        if BACKEND == "postgres" and self.pg_names:
            admin = create_engine(db.make_engine(_pg_admin_url()).url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                for name in self.pg_names:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    """Factory of fresh databases for this run."""
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.cleanup()


START = dt.datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)  # a Monday


@pytest.fixture
def clock() -> FixedClock:
    """A clock frozen at Monday 2026-11-23 10:00 China time."""
    return FixedClock(START)


@pytest.fixture(scope="session")
def engine(databases: DatabaseFactory) -> Engine:
    """The shared, migrated database with the demo county loaded (committed once per run)."""
    from onewindow.demo import load_demo

    eng = databases.new_engine("shared")
    factory = db.make_session_factory(eng)
    with factory() as s, s.begin():
        load_demo(s, clock=FixedClock(START), password=DEMO_PASSWORD)
    return eng


@pytest.fixture
def connection(engine: Engine) -> Iterator[Any]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            yield conn
        finally:
            trans.rollback()


@pytest.fixture
def session_factory(connection: Any) -> sessionmaker[Session]:
    """Sessions bound to the test's connection; their commits become savepoints."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False,
                        autoflush=False)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session on the demo database; everything it writes is rolled back after the test."""
    with session_factory() as s:
        yield s


@pytest.fixture
def empty_session(databases: DatabaseFactory) -> Iterator[Session]:
    """A session on a fresh, migrated, empty database."""
    eng = databases.new_engine("empty")
    with db.make_session_factory(eng)() as s:
        yield s


def _settings(upload_dir: Path, url: str = "sqlite:///unused.db") -> Settings:
    # 智能导办 stays lexical in tests: the model's tests build their hybrid search explicitly (tests/guide)
    # no anonymous ticket limit: the suite takes many tickets from one address (test_ticket_limit.py opts in);
    # the hall state and wait estimates answered fresh each time (test_hall_state_cache.py and
    # test_ticket_place.py opt in to the caches)
    return Settings(database_url=url, secret_key=secrets.token_urlsafe(16), jobs_enabled=False,
                    upload_dir=upload_dir, guide_semantic=False, ticket_anonymous_per_hour=0,
                    hall_state_cache_seconds=0, queue_cache_seconds=0)


@pytest.fixture
def app(engine: Engine, session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Path) -> FastAPI:
    """The app on the demo database, with every request inside the test's rolled-back transaction."""
    from onewindow.main import create_app

    application = create_app(_settings(tmp_path / "uploads"), clock=clock, engine=engine, migrate=False)
    application.state.session_factory = session_factory
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client for the app (no cookies, no token)."""
    with TestClient(app) as c:
        yield c


@pytest.fixture
def token_for(client: TestClient) -> Callable[[str], dict[str, str]]:
    """Sign a demo user in through the API; returns the Authorization header."""
    cache: dict[str, dict[str, str]] = {}

    def _headers(username: str) -> dict[str, str]:
        if username not in cache:
            r = client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
            assert r.status_code == 200, r.text
            cache[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        return cache[username]

    return _headers


# ----- a real server for browser tests -------------------------------------------------------------


class LiveServer:
    """A uvicorn server in a thread on a free port, on its own demo database."""

    def __init__(self, url: str, thread: threading.Thread, server: Any) -> None:
        self.url = url
        self.thread = thread
        self.server = server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_started(process: subprocess.Popen[bytes], port: int, timeout: float = 60) -> bool:
    """Wait until a ``onewindow serve`` child answers ``/healthz``; False after ``timeout`` seconds.

    Raises when the child exits while starting.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError("the server exited while starting")
        time.sleep(0.1)  # waiting for real processes to listen, not for time to pass
    return False


@pytest.fixture(scope="session")
def live_server(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app served over HTTP on a committed demo database (for Playwright tests)."""
    import uvicorn

    from onewindow.demo import load_demo
    from onewindow.main import create_app

    eng = databases.new_engine("live")
    with db.make_session_factory(eng)() as s, s.begin():
        load_demo(s, clock=FixedClock(START), password=DEMO_PASSWORD)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings = _settings(tmp_path_factory.mktemp("uploads"))
    settings.base_url = base
    application = create_app(settings, engine=eng, migrate=False)
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("live server did not start")
        time.sleep(0.05)
    yield LiveServer(base, thread, server)
    server.should_exit = True
    thread.join(timeout=10)


class ShiftedClock:
    """A clock that runs at real speed from a chosen moment (``set``): live pages that wait for time to pass
    (server-sent events, refreshes) keep working, and a test still decides which day and hour it is."""

    def __init__(self, at: dt.datetime) -> None:
        self.set(at)

    def set(self, at: dt.datetime) -> None:
        """From now on, the time is ``at`` and runs on."""
        self._offset = at - dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        """The shifted time."""
        return dt.datetime.now(dt.UTC) + self._offset


@pytest.fixture
def live_clock(live_server: LiveServer) -> Iterator[ShiftedClock]:
    """Shift the live server's clock (to a working-day morning, START) for one test; the system clock after it."""
    state = live_server.server.config.app.state
    previous = state.clock
    state.clock = ShiftedClock(START)
    try:
        yield state.clock
    finally:
        state.clock = previous


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (no browser download)."""
    import shutil

    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("chromium is not installed: run `make test`, which installs it")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=executable, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser page (own cookies) with Chinese locale."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
def artifacts() -> Path:
    """Where browser tests save screenshots (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# ----- signed-in page clients ----------------------------------------------------------------------

HTML = {"Accept": "text/html"}


@dataclass
class Browser:
    """A client with cookies and the CSRF token its forms carry, posting forms as a browser does."""

    client: TestClient
    csrf: str

    def post(self, url: str, data: list[tuple[str, str]] | dict[str, str] | None = None, *, csrf: bool = True,
             headers: dict[str, str] | None = None) -> httpx.Response:
        """Post a form (repeated keys kept in order) with the CSRF token unless ``csrf`` is False."""
        pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
        pairs = [(k, v) for k, v in pairs if k != "csrf_token"]
        if csrf:
            pairs.append(("csrf_token", self.csrf))
        response: httpx.Response = self.client.post(
            url, content=urlencode(pairs).encode(), follow_redirects=False,
            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
        return response


@pytest.fixture
def login(app: FastAPI, session: Session) -> Iterator[Callable[[str], Browser]]:
    """Sign a demo user in through the /login form (pre-login CSRF cookie and token taken from it)."""
    from onewindow.staff.models import User, WebSession

    clients: list[TestClient] = []

    def _login(username: str) -> Browser:
        c = TestClient(app, headers=HTML)
        clients.append(c)
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
        assert token
        r = c.post("/login", data={"csrf_token": token[1], "username": username, "password": DEMO_PASSWORD},
                   follow_redirects=False)
        assert r.status_code == 303, r.text
        # The session's own token, read where the server keeps it: roles that may open no page
        # still need it to prove that a refused POST was refused for the role, not the token.
        web_session = session.scalars(select(WebSession).join(User).where(User.username == username)
                                      .order_by(WebSession.id.desc())).first()
        assert web_session is not None
        return Browser(c, web_session.csrf_token)

    yield _login
    for c in clients:
        c.close()
