"""Faults: the server is killed (SIGKILL) in the middle of a write load and restarted. Every acknowledged
ticket is in the database, numbers stay unique, nothing is half-written and the audit chain verifies.
Also: ``onewindow serve --workers N`` refuses several processes on SQLite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from onewindow import backup, db
from onewindow.catalog.models import Hall
from onewindow.cli_support import app
from onewindow.config import get_settings
from onewindow.core import audit
from onewindow.core.clock import FixedClock
from onewindow.queue.models import Ticket
from onewindow.site_cli import serve  # noqa: F401  (registers ``serve`` on ``app``)
from tests.conftest import START, DatabaseFactory, _free_port, serve_started

HALL = "HJ-ZJZ"
CLIENTS = 4
LOAD_SECONDS = 1.5


def _start(url: str, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, ONEWINDOW_DATABASE_URL=url, ONEWINDOW_JOBS_ENABLED="false",
               ONEWINDOW_UPLOAD_DIR=str(tmp / "uploads"), ONEWINDOW_GUIDE_SEMANTIC="false",
               ONEWINDOW_TICKET_KIOSK_ADDRESSES='["127.0.0.1"]',  # the load generator stands in for kiosks
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    process = subprocess.Popen([sys.executable, "-c", "from onewindow.cli import main; main()", "serve",
                                "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    if serve_started(process, port):
        return process
    process.kill()
    raise RuntimeError("the server did not start")


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def test_sigkill_during_ticket_load_loses_nothing_acknowledged(engine: Engine, databases: DatabaseFactory,
                                                               tmp_path: Path) -> None:
    url = databases.new_url("crash")
    backup.backup(engine, tmp_path / "none", tmp_path / "demo", clock=FixedClock(START))  # a copy of the demo
    target = db.make_engine(url)
    backup.restore(target, tmp_path / "uploads", tmp_path / "demo")
    target.dispose()
    port = _free_port()
    base = f"http://127.0.0.1:{port}/api/v1/queue/halls/{HALL}/tickets"
    server = _start(url, port, tmp_path)
    acknowledged: list[tuple[str, str]] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                try:
                    r = client.post(base, json={"category": "A"})
                except httpx.HTTPError:
                    continue  # refused or cut off by the kill: not acknowledged
                if r.status_code == 201:
                    acknowledged.append((r.json()["token"], r.json()["number"]))

    threads = [threading.Thread(target=load) for _ in range(CLIENTS)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(LOAD_SECONDS)  # a real server under load: let writes be in flight when it dies
        _kill(server)
        stop.set()
        for t in threads:
            t.join(10)
        assert len(acknowledged) >= 20
        server = _start(url, port, tmp_path)  # restarts on what the crash left
        after = httpx.post(base, json={"category": "A"}, timeout=10)
        assert after.status_code == 201, after.text
    finally:
        stop.set()
        _kill(server)

    engine = db.make_engine(url)
    try:
        with db.make_session_factory(engine)() as s:
            hall_id = s.scalar(select(Hall.id).where(Hall.code == HALL))
            rows = {token: number for token, number in s.execute(
                select(Ticket.token, Ticket.number).where(Ticket.hall_id == hall_id))}
            missing = [token for token, _number in acknowledged if rows.get(token) is None]
            assert missing == [], f"{len(missing)} acknowledged tickets lost"
            assert all(rows[token] == number for token, number in acknowledged)
            per_day = s.execute(select(Ticket.day, Ticket.number, func.count()).group_by(Ticket.day, Ticket.number)
                                .having(func.count() > 1)).all()
            assert per_day == []  # no duplicate ticket number
            result = audit.verify(s)
            assert result.ok, result.reason
    finally:
        engine.dispose()


def test_several_workers_need_postgresql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'one.db'}")
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, ["serve", "--workers", "2"])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 1 and "多个工作进程（--workers）需要 PostgreSQL" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1  # one line
    assert not (tmp_path / "one.db").exists()  # refused before the database was opened, created or upgraded
