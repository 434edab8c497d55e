"""``onewindow bench api``: the app served on loopback in its own process(es), driven by client threads here
(plain ``http.client`` keep-alive connections, so the load generator takes little of the cores it shares).

The mix (per client, at random with a fixed seed): 80 % 取号 (anonymous ticket issue), 10 % a ticket's status,
10 % the hall's live state. Afterwards the invariants: every acknowledged (201) ticket is in the database
with its number, no ticket number is given twice in a hall's category on a day, and the audit chain
verifies. Prints throughput and p50 / p99 per operation, and the CPU time the server and the load generator
spent per request (on a machine shared with other work, wall-clock throughput varies from run to run; CPU per
request does much less, so it is the figure to compare changes by).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from onewindow import db
from onewindow.catalog.models import Item
from onewindow.core import audit
from onewindow.core.clock import SystemClock
from onewindow.demo import load_demo
from onewindow.queue.models import Ticket

HALL = "HJ-ZWZX"
CATEGORIES = ("A", "B", "C")


@dataclass
class Tally:
    """Latencies (seconds) per operation, and what the server acknowledged."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    acknowledged: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, op: str, seconds: float, ok: bool) -> None:
        """Count one request."""
        with self.lock:
            if ok:
                self.latencies.setdefault(op, []).append(seconds)
            else:
                self.errors[op] = self.errors.get(op, 0) + 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(url: str) -> None:
    engine = db.make_engine(url)
    db.upgrade(engine)
    factory = db.make_session_factory(engine)
    with db.transaction(factory) as session:
        if not session.scalar(select(func.count()).select_from(Item)):
            load_demo(session, clock=SystemClock())
    engine.dispose()


def _serve(url: str, port: int, workers: int, upload_dir: Path, synchronous: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, ONEWINDOW_DATABASE_URL=url, ONEWINDOW_JOBS_ENABLED="false",
               ONEWINDOW_SQLITE_SYNCHRONOUS=synchronous,
               ONEWINDOW_UPLOAD_DIR=str(upload_dir), ONEWINDOW_GUIDE_SEMANTIC="false",
               ONEWINDOW_TICKET_KIOSK_ADDRESSES='["127.0.0.1"]',  # the load generator stands in for kiosks
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    # this interpreter running this package's own CLI: no shell, no outside input
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", "from onewindow.cli import main; main()", "serve", "--port", str(port),
         "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited while starting")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling a process that is starting
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError("the server did not start")


class _Connection:
    """One keep-alive HTTP/1.1 connection over loopback (``http.client``: a client thread costs a fraction of what
    httpx costs, and the load generator shares the machine's cores with the server it measures)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
        """Send one request, read the whole answer; reconnect once if the server closed the idle connection."""
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"content-type": "application/json"} if payload is not None else {}
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def _client(port: int, seconds: float, seed: int, tally: Tally) -> None:
    rng = random.Random(seed)  # noqa: S311  (a reproducible load mix, nothing secret)
    tokens: list[str] = []
    client = _Connection(port)
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            roll = rng.random()
            start = time.perf_counter()
            if roll < 0.8 or not tokens:
                op = "ticket_issue"
                try:
                    status, data = client.request("POST", f"/api/v1/queue/halls/{HALL}/tickets",
                                                  {"category": rng.choice(CATEGORIES)})
                except (OSError, http.client.HTTPException):
                    tally.record(op, 0, False)
                    continue
                ok = status == 201
                if ok:
                    body = json.loads(data)
                    tokens.append(body["token"])
                    with tally.lock:
                        tally.acknowledged.append((body["token"], body["number"]))
            elif roll < 0.9:
                op = "ticket_status"
                token = rng.choice(tokens)
                try:
                    status, data = client.request("GET", f"/api/v1/queue/tickets/{token}")
                    ok = status == 200 and json.loads(data)["number"] is not None
                except (OSError, http.client.HTTPException, ValueError, KeyError):
                    ok = False
            else:
                op = "hall_state"
                try:
                    status, data = client.request("GET", f"/api/v1/queue/halls/{HALL}/state")
                    ok = status == 200 and json.loads(data)["hall"] == HALL
                except (OSError, http.client.HTTPException, ValueError, KeyError):
                    ok = False
            tally.record(op, time.perf_counter() - start, ok)
    finally:
        client.close()


def _warm_up(port: int) -> None:
    """One request of each kind before the clock starts: the first request of a route builds the framework's
    route tables and the first statement of a kind is compiled; a start-up cost, not a per-request one."""
    client = _Connection(port)
    try:
        status, data = client.request("POST", f"/api/v1/queue/halls/{HALL}/tickets", {"category": CATEGORIES[0]})
        if status != 201:
            raise RuntimeError(f"warm-up ticket refused: {status} {data[:200]!r}")
        client.request("GET", f"/api/v1/queue/tickets/{json.loads(data)['token']}")
        client.request("GET", f"/api/v1/queue/halls/{HALL}/state")
    finally:
        client.close()


def _group_cpu_seconds(pgid: int) -> float | None:
    """CPU seconds (user + system) used so far by the processes of a process group (Linux /proc; None elsewhere):
    the server's cost per request, which a machine loaded by others does not distort the way it does wall time."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile, or not ours to read
        if int(fields[2]) == pgid:  # fields after "(comm)": state, ppid, pgrp, …, utime (12), stime (13)
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def _percentile(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if q < 100 else max(values)


def _invariants(url: str, acknowledged: list[tuple[str, str]]) -> list[str]:
    problems: list[str] = []
    engine = db.make_engine(url)
    try:
        with db.make_session_factory(engine)() as session:
            stored = {token: number for token, number in session.execute(select(Ticket.token, Ticket.number))}
            lost = [t for t, _n in acknowledged if t not in stored]
            if lost:
                problems.append(f"{len(lost)} acknowledged tickets missing")
            if any(stored.get(t) not in (None, n) for t, n in acknowledged):
                problems.append("a ticket's number differs from the acknowledged one")
            duplicates = session.execute(
                select(Ticket.hall_id, Ticket.day, Ticket.number).group_by(Ticket.hall_id, Ticket.day, Ticket.number)
                .having(func.count() > 1)).all()
            if duplicates:
                problems.append(f"{len(duplicates)} duplicate ticket numbers")
            result = audit.verify(session)
            if not result.ok:
                problems.append(f"audit chain broken at {result.broken_id}: {result.reason}")
    finally:
        engine.dispose()
    return problems


def run(*, database_url: str | None, workers: int, clients: int, seconds: float, seed: int = 16,
        sqlite_synchronous: str = "full") -> dict[str, Any]:
    """Serve, drive, stop, check; the JSON-ready report (SQLite's synchronous mode is part of it)."""
    with tempfile.TemporaryDirectory(prefix="onewindow-bench-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        _prepare(url)
        port = _free_port()
        server = _serve(url, port, workers, Path(tmp) / "uploads", sqlite_synchronous)
        tally = Tally()
        try:
            _warm_up(port)
            threads = [threading.Thread(target=_client, args=(port, seconds, seed + i, tally))
                       for i in range(clients)]
            server_cpu = _group_cpu_seconds(server.pid)
            client_cpu = time.process_time()
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
            client_cpu = time.process_time() - client_cpu
            server_end = _group_cpu_seconds(server.pid)
            server_cpu = server_end - server_cpu if server_end is not None and server_cpu is not None else None
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        operations = {
            op: {"count": len(v), "per_second": round(len(v) / elapsed, 1),
                 "p50_ms": round(_percentile(v, 50) * 1000, 1), "p99_ms": round(_percentile(v, 99) * 1000, 1),
                 "errors": tally.errors.get(op, 0)}
            for op, v in sorted(tally.latencies.items()) if v}
        violations = _invariants(url, tally.acknowledged)
        requests = sum(len(v) for v in tally.latencies.values()) + sum(tally.errors.values())
        cpu = {"server_ms_per_request": round(server_cpu * 1000 / requests, 2) if server_cpu and requests else None,
               "client_ms_per_request": round(client_cpu * 1000 / requests, 2) if requests else None}
        database = url.split(":", 1)[0]
        return {"database": database, "workers": workers, "clients": clients,
                "sqlite_synchronous": sqlite_synchronous if database == "sqlite" else None,
                "seconds": round(elapsed, 1), "operations": operations, "errors": tally.errors,
                "invariant_violations": violations, "cpu": cpu, "load_average": list(os.getloadavg())}
