"""``onewindow serve --workers 2`` on PostgreSQL: a hall display connected to one worker hears a ticket taken
through the other (LISTEN/NOTIFY, ``core.livebus``).

Which worker accepts a connection is the kernel's choice, so the test opens event streams until both workers
serve one: each worker's listener connection starts with its first stream and shows in ``pg_stat_activity``
(``application_name`` ``onewindow-live-listen``), and a stream says ``connected`` only once its worker listens.
Then every stream must receive every ticket, whichever worker took it."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from onewindow.catalog.models import Hall, HallCategory, Region
from tests.conftest import BACKEND, DatabaseFactory, _free_port, serve_started

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="several workers need PostgreSQL")

HALL = "HJ-TWO"
MAX_STREAMS = 24
TICKETS = 3


def _hall(engine: Engine) -> None:
    with Session(engine) as s, s.begin():
        region = Region(code="410724", name="获嘉县", level="county")
        s.add_all([region, Hall(code=HALL, name="两进程测试大厅", level="county", region=region),
                   HallCategory(code="A", name="综合业务")])


def _serve(url: str, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, ONEWINDOW_DATABASE_URL=url, ONEWINDOW_JOBS_ENABLED="false",
               ONEWINDOW_UPLOAD_DIR=str(tmp / "uploads"), ONEWINDOW_GUIDE_SEMANTIC="false",
               ONEWINDOW_TICKET_ANONYMOUS_PER_HOUR="0", PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    with (tmp / "serve.log").open("wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen([sys.executable, "-c", "from onewindow.cli import main; main()", "serve",
                                    "--port", str(port), "--workers", "2"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    if serve_started(process, port):
        return process
    _stop(process)
    raise RuntimeError("the server did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


class Stream:
    """One display's event stream in a thread: ``connected`` once its worker listens, then the events."""

    def __init__(self, url: str) -> None:
        self.connected = threading.Event()
        self.events: queue.Queue[dict[str, object]] = queue.Queue()
        self.client = httpx.Client(timeout=httpx.Timeout(10, read=60))
        self.thread = threading.Thread(target=self._read, args=(url,), daemon=True)
        self.thread.start()

    def _read(self, url: str) -> None:
        try:
            with self.client.stream("GET", url) as r:
                for line in r.iter_lines():
                    if line == ": connected":
                        self.connected.set()
                    elif line.startswith("data: "):
                        self.events.put(json.loads(line.removeprefix("data: ")))
        except (httpx.HTTPError, RuntimeError, OSError):
            pass  # closed by close(), or the server stopped

    def close(self) -> None:
        """The display goes away."""
        self.client.close()
        self.thread.join(5)

    def next_ticket(self, timeout: float = 5.0) -> str | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if event.get("type") == "ticket.issued":
                ticket = event["ticket"]
                assert isinstance(ticket, dict)
                return str(ticket["number"])
        return None


def _listeners(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND application_name = 'onewindow-live-listen'")) or 0)


def test_a_ticket_taken_through_one_worker_reaches_displays_on_both(databases: DatabaseFactory,
                                                                    tmp_path: Path) -> None:
    engine = databases.new_engine("workers")
    _hall(engine)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(engine.url.render_as_string(hide_password=False).replace("+psycopg", ""), port, tmp_path)
    streams: list[Stream] = []
    try:
        while _listeners(engine) < 2:  # until both workers serve a stream
            assert len(streams) < MAX_STREAMS, "every stream went to one worker"
            burst = [Stream(f"{base}/halls/{HALL}/events") for _ in range(4)]
            for stream in burst:
                assert stream.connected.wait(10), "a stream never said connected"
            streams += burst
        numbers = []
        for _ in range(TICKETS):  # each on a new connection, taken by either worker
            r = httpx.post(f"{base}/api/v1/queue/halls/{HALL}/tickets", json={"category": "A"}, timeout=10)
            assert r.status_code == 201, r.text
            numbers.append(r.json()["number"])
        for stream in streams:
            assert sorted(str(stream.next_ticket()) for _ in numbers) == sorted(numbers)  # every display
        assert httpx.get(f"{base}/healthz", timeout=5).json()["live_events"] == "listening"
    finally:
        for stream in streams:
            stream.close()
        _stop(server)
