"""``onewindow bench api``: the app served on loopback in its own process(es), driven by client threads here
(plain ``http.client`` keep-alive connections, so the load generator takes little of the cores it shares).

Two mixes (per client, at random with a fixed seed), chosen with ``--mix``:

``rush`` (the default): the opening rush, on which the floor of 400 tickets a second is measured. 80 % 取号
(anonymous ticket issue), 10 % a ticket's status, 10 % the hall's live state.

``day``: a county hall's working day, every kind of API call the hall makes, in these shares of the client
iterations (each a real API call; the clerk's turn of a called ticket adds its own calls):

=================  =====  ======================================================================================
operation          share  why
=================  =====  ======================================================================================
``ticket_issue``    25 %  the kiosks: 600–1 000 visitors a day at a county center, each takes a ticket
``ticket_status``   15 %  the applicant's phone (the slip's QR) looks at the place in line a few times a visit
``hall_state``      10 %  the hall's screens and the 小程序 poll the live state
``call_next``       15 %  叫号 at a signed-in window, then the clerk moves the ticket on: ``ticket_start``
                          (开始办理) and ``ticket_finish`` (办结), or ``ticket_missed`` (过号, 8 % of calls) — so a
                          called visitor costs about three window calls, and calls keep pace with a little under
                          the issue rate (the line grows through the morning, as it does in a real hall)
``case_intake``     10 %  窗口受理 (``POST /api/v1/cases``): about two visits in five end in a case, on demo catalog
                          items of four departments with their checklist's materials handed in on paper
``case_approve``    10 %  the department's approver moves an intaken case on: 审查意见 for each review step, then
                          the 准予许可 decision (about two calls a case: half the day's intake is decided the same
                          day, the rest waits in the inbox, as cases with a promised time of days do)
``rating``           8 %  好差评: the window's evaluator rates a finished ticket (anonymous, by its token; ~70 %),
                          or the applicant rates a decided case signed in (~30 %); most visits are rated
``dashboard``        7 %  统计分析: the large screen's figures, queue metrics and 好差评 figures, read by the
                          supervisor (a few readers, polling every half minute to a few minutes)
=================  =====  ======================================================================================

The day mix's accounts are made before the clock starts the way the app lets an administrator: API tokens
through ``POST /api/v1/auth/token``; one clerk a client (``POST /api/v1/staff``, qualified for every category
with ``PUT /api/v1/queue/qualifications/…``) signed in to a free window of the demo county hall. A client runs
its own clerk and window; the approvers, applicants and the supervisor are shared. When an operation has
nothing to work on yet (no intaken case to approve, nothing finished to rate), the client takes a ticket instead.

Afterwards the invariants: every acknowledged (201) ticket is in the database with its number, no ticket number
is given twice in a hall's category on a day, every acknowledged case (201 with its number) and rating (201 with
its id) is in the database, and the audit chain verifies. A 409 the mix can legitimately cause (two writers on one
row, a rating given twice) counts as the operation's ``rejected``, not as an error; any other answer than the
expected one (a 5xx above all) is an error. Prints throughput and p50 / p99 per operation, and the CPU time the
server and the load generator spent per request (on a machine shared with other work, wall-clock throughput
varies from run to run; CPU per request does much less, so it is the figure to compare changes by).
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
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from onewindow import db
from onewindow.cases.models import Case
from onewindow.catalog.models import Item
from onewindow.certificates.demo import WANG_FANG, ZHANG_WEI
from onewindow.core import audit
from onewindow.core.clock import SystemClock
from onewindow.demo import DEMO_PASSWORD, load_demo
from onewindow.queue.demo import ALL_CATEGORIES
from onewindow.queue.models import Ticket
from onewindow.ratings.models import Rating

HALL = "HJ-ZWZX"
SAMPLES = 10  # unexpected answers and 409s kept for the report
CATEGORIES = ("A", "B", "C")
MIXES = ("rush", "day")


@dataclass
class Tally:
    """Latencies (seconds) per operation, and what the server acknowledged."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    acknowledged: list[tuple[str, str]] = field(default_factory=list)
    cases: list[tuple[int, str]] = field(default_factory=list)  # acknowledged case intakes: id, number
    ratings: list[int] = field(default_factory=list)  # acknowledged ratings' ids
    samples: list[str] = field(default_factory=list)  # the first unexpected answers (to tell why)
    rejected_samples: list[str] = field(default_factory=list)  # the first 409s (which conflict, and where)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, op: str, seconds: float, ok: bool) -> None:
        """Count one request."""
        with self.lock:
            if ok:
                self.latencies.setdefault(op, []).append(seconds)
            else:
                self.errors[op] = self.errors.get(op, 0) + 1

    def reject(self, op: str, sample: str) -> None:
        """Count a refusal the mix can legitimately cause (a 409); the first few are kept, to tell which."""
        with self.lock:
            self.rejected[op] = self.rejected.get(op, 0) + 1
            if len(self.rejected_samples) < SAMPLES:
                self.rejected_samples.append(sample)


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

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                token: str | None = None) -> tuple[int, bytes]:
        """Send one request (with a bearer token if given), read the whole answer; reconnect once if the server
        closed the idle connection."""
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"content-type": "application/json"} if payload is not None else {}
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
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


# ----- the working day's mix --------------------------------------------------------------------------------

DAY_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("ticket_issue", 25), ("ticket_status", 15), ("hall_state", 10), ("call_next", 15), ("case_intake", 10),
    ("case_approve", 10), ("rating", 8), ("dashboard", 7))
MISSED_SHARE = 0.08  # of the calls: the visitor has gone (过号)
CASE_RATING_SHARE = 0.3  # of the ratings: a decided case rated by its applicant (the rest: a visit, at the window)
# 好差评 as a county hall sees them: nearly all 非常满意 / 满意, a few 差评 (with a reason: a 差评 needs one)
LEVELS = (("very_satisfied", 80), ("satisfied", 12), ("basic", 5), ("unsatisfied", 3))
# demo catalog items of four departments (受理 → 审查 → 决定), with the approver of the department
ITEMS = (("410724-SCJG-XK-003", "approver_scjg"),  # 个体工商户注销登记
         ("410724-GAJ-GG-001", "approver_gaj"),  # 户籍证明出具
         ("410724-YBJ-GG-002", "approver_ybj"),  # 医保关系转移
         ("410724-RSJ-JF-001", "approver_rsj"))  # 养老保险
APPLICANTS = (("zhangwei", {"kind": "person", "name": "张伟", "id_number": ZHANG_WEI, "phone": "13903735678"}),
              ("wangfang", {"kind": "person", "name": "王芳", "id_number": WANG_FANG, "phone": "13703736789"}))
DASHBOARD_READS = ("/dashboard/screen.json", f"/api/v1/queue/halls/{HALL}/metrics", "/api/v1/ratings/figures")
DECIDED = ("approved", "denied")
BENCH_CLERK = "bench_clerk{:02d}"


@dataclass
class _Form:
    """A case intake the clerk can submit: the item, the applicant, the materials handed in on paper."""

    item_code: str
    approver: str
    applicant: str  # the applicant's username (to rate the decided case)
    body: dict[str, Any]


@dataclass
class _Day:
    """What the day mix's clients share: the tokens, the intake forms, and the work in hand."""

    desks: list[tuple[str, int]]  # a clerk's token, the window they are signed in to
    tokens: dict[str, str]  # username -> API token (approvers, applicants, the supervisor)
    forms: list[_Form]
    lock: threading.Lock = field(default_factory=threading.Lock)
    issued: list[str] = field(default_factory=list)  # ticket tokens
    by_number: dict[str, str] = field(default_factory=dict)  # today's ticket number -> token
    pending: deque[dict[str, Any]] = field(default_factory=deque)  # intaken cases waiting for the approver
    finished: deque[str] = field(default_factory=deque)  # finished tickets' tokens, not yet rated
    decided: deque[tuple[int, str]] = field(default_factory=deque)  # decided cases (id, applicant), not rated


class _Refused(Exception):
    """A setup call the server refused."""


def _setup_call(client: _Connection, method: str, path: str, body: dict[str, Any] | None = None,
                token: str | None = None, ok: tuple[int, ...] = (200, 201)) -> Any:
    status, data = client.request(method, path, body, token)
    if status not in ok:
        raise _Refused(f"{method} {path}: {status} {data[:300]!r}")
    return json.loads(data) if data else None


def _token(client: _Connection, username: str) -> str:
    answer = _setup_call(client, "POST", "/api/v1/auth/token",
                         {"username": username, "password": DEMO_PASSWORD, "name": "bench api --mix day"})
    return str(answer["access_token"])


def _prepare_day(port: int, clients: int) -> _Day:
    """Before the clock: API tokens, one clerk a client signed in to a free window, the intake forms."""
    client = _Connection(port)
    try:
        admin = _token(client, "admin")
        windows = _setup_call(client, "GET", f"/api/v1/queue/halls/{HALL}/windows", token=admin)
        labels = [f"压测窗口{i + 1:02d}" for i in range(clients)]
        mine = {w["clerk"]: w["id"] for w in windows if w["status"] != "offline" and w["clerk"] in labels}
        free = [w["id"] for w in windows if w["status"] == "offline" or not w["clerk"]]
        desks = []
        for i, label in enumerate(labels):  # one clerk a client while windows last; the rest share the desks
            window = mine.get(label) or (free.pop(0) if free else None)
            if window is None:
                break
            name = BENCH_CLERK.format(i + 1)  # 422 duplicate_username: made by an earlier run on this database
            _setup_call(client, "POST", "/api/v1/staff", {
                "username": name, "password": DEMO_PASSWORD, "display_name": label, "role": "clerk",
                "department": "ZWFW", "hall": HALL}, admin, ok=(201, 422))
            _setup_call(client, "PUT", f"/api/v1/queue/qualifications/{name}", {"categories": ALL_CATEGORIES}, admin)
            token = _token(client, name)
            _setup_call(client, "POST", f"/api/v1/queue/windows/{window}/sign-in", token=token)
            desks.append((token, window))
        if not desks:
            raise _Refused(f"no free window in {HALL}")
        tokens = {name: _token(client, name) for name in
                  {approver for _code, approver in ITEMS} | {u for u, _a in APPLICANTS} | {"supervisor"}}
        forms = []
        for code, approver in ITEMS:
            for username, applicant in APPLICANTS:
                lines = _setup_call(client, "POST", "/api/v1/cases/checklist",
                                    {"item_code": code, "holder_id": applicant["id_number"]}, desks[0][0])
                materials = {m["key"]: "paper" for m in lines["materials"] if m["required"] and not m["library"]}
                forms.append(_Form(code, approver, username, {
                    "item_code": code, "applicant": applicant, "materials": materials, "hall_code": HALL,
                    "form_data": {"申请事由": f"{lines['title']}（窗口受理）", "联系地址": "获嘉县城关镇行政路18号"},
                    "delivery_method": "pickup"}))
        return _Day(desks=desks, tokens=tokens, forms=forms)
    finally:
        client.close()


def _call(client: _Connection, tally: Tally, op: str, method: str, path: str, body: dict[str, Any] | None = None,
          token: str | None = None, expect: int = 200) -> Any:
    """One timed request of the day mix: its JSON answer, or None (a 409 counted as rejected, else an error)."""
    start = time.perf_counter()
    try:
        status, data = client.request(method, path, body, token)
        answer = json.loads(data) if status == expect else None
    except (OSError, http.client.HTTPException, ValueError):
        tally.record(op, 0, False)
        return None
    seconds = time.perf_counter() - start
    if status == expect:
        tally.record(op, seconds, True)
        return answer
    sample = f"{op}: {method} {path} {status} {data[:200].decode(errors='replace')}"
    if status == 409:
        tally.reject(op, sample)
    else:
        tally.record(op, seconds, False)
        with tally.lock:
            if len(tally.samples) < SAMPLES:
                tally.samples.append(sample)
    return None


def _issue(client: _Connection, rng: random.Random, tally: Tally, day: _Day, _desk: tuple[str, int]) -> bool:
    answer = _call(client, tally, "ticket_issue", "POST", f"/api/v1/queue/halls/{HALL}/tickets",
                   {"category": rng.choice(ALL_CATEGORIES)}, expect=201)
    if answer is not None:
        with tally.lock:
            tally.acknowledged.append((answer["token"], answer["number"]))
        with day.lock:
            day.issued.append(answer["token"])
            day.by_number[answer["number"]] = answer["token"]
    return True


def _status(client: _Connection, rng: random.Random, tally: Tally, day: _Day, _desk: tuple[str, int]) -> bool:
    if not day.issued:
        return False
    _call(client, tally, "ticket_status", "GET", f"/api/v1/queue/tickets/{rng.choice(day.issued)}")
    return True


def _hall_state(client: _Connection, _rng: random.Random, tally: Tally, _day: _Day, _desk: tuple[str, int]) -> bool:
    _call(client, tally, "hall_state", "GET", f"/api/v1/queue/halls/{HALL}/state")
    return True


def _call_next(client: _Connection, rng: random.Random, tally: Tally, day: _Day, desk: tuple[str, int]) -> bool:
    token, window = desk
    answer = _call(client, tally, "call_next", "POST", f"/api/v1/queue/windows/{window}/call-next", token=token)
    ticket = answer["ticket"] if answer is not None else None
    if ticket is None:
        return True
    path = f"/api/v1/queue/windows/{window}/tickets/{ticket['id']}"
    if rng.random() < MISSED_SHARE:
        _call(client, tally, "ticket_missed", "POST", f"{path}/mark-missed", token=token)
    elif _call(client, tally, "ticket_start", "POST", f"{path}/start-serving", token=token) is not None and \
            _call(client, tally, "ticket_finish", "POST", f"{path}/finish", token=token) is not None:
        with day.lock:
            finished = day.by_number.get(ticket["number"])
            if finished is not None:
                day.finished.append(finished)
    return True


def _intake(client: _Connection, rng: random.Random, tally: Tally, day: _Day, desk: tuple[str, int]) -> bool:
    form = rng.choice(day.forms)
    case = _call(client, tally, "case_intake", "POST", "/api/v1/cases", form.body, token=desk[0], expect=201)
    if case is not None:
        with tally.lock:
            tally.cases.append((case["id"], case["number"]))
        _track(day, case, form.approver, form.applicant)
    return True


def _track(day: _Day, case: dict[str, Any], approver: str, applicant: str) -> None:
    with day.lock:
        if case["state"] in DECIDED:
            day.decided.append((case["id"], applicant))
        elif case["state"] in ("accepted", "in_review"):
            day.pending.append({"id": case["id"], "version": case["version"], "approver": approver,
                                "applicant": applicant, "opinion": case["next_opinion_step"] is not None})


def _approve(client: _Connection, _rng: random.Random, tally: Tally, day: _Day, _desk: tuple[str, int]) -> bool:
    with day.lock:
        if not day.pending:
            return False
        case = day.pending.popleft()
    token = day.tokens[case["approver"]]
    if case["opinion"]:  # 审查意见 for the next review step
        body: dict[str, Any] = {"version": case["version"], "opinion": "材料齐全，符合法定条件，同意", "agree": True}
        action = "opinions"
    else:  # the decision
        body = {"version": case["version"], "approve": True, "reason": "符合法定条件，准予许可"}
        action = "decision"
    answer = _call(client, tally, "case_approve", "POST", f"/api/v1/cases/{case['id']}/{action}", body, token)
    if answer is not None:
        _track(day, answer, case["approver"], case["applicant"])
    return True


def _level(rng: random.Random) -> dict[str, Any]:
    level = rng.choices([lv for lv, _w in LEVELS], [w for _lv, w in LEVELS])[0]
    if level == "unsatisfied":
        return {"level": level, "reasons": ["long_wait"], "comment": "等候时间较长"}
    return {"level": level}


def _rate(client: _Connection, rng: random.Random, tally: Tally, day: _Day, _desk: tuple[str, int]) -> bool:
    with day.lock:
        if day.decided and (rng.random() < CASE_RATING_SHARE or not day.finished):
            case_id, applicant = day.decided.popleft()
            ticket = None
        elif day.finished:
            ticket = day.finished.popleft()
        else:
            return False
    if ticket is not None:
        rating = _call(client, tally, "rating", "POST", f"/api/v1/ratings/tickets/{ticket}",
                       _level(rng) | {"channel": "evaluator"}, expect=201)
    else:
        rating = _call(client, tally, "rating", "POST", f"/api/v1/ratings/cases/{case_id}",
                       _level(rng) | {"channel": "online"}, day.tokens[applicant], expect=201)
    if rating is not None:
        with tally.lock:
            tally.ratings.append(rating["id"])
    return True


def _dashboard(client: _Connection, rng: random.Random, tally: Tally, day: _Day, _desk: tuple[str, int]) -> bool:
    _call(client, tally, "dashboard", "GET", rng.choice(DASHBOARD_READS), token=day.tokens["supervisor"])
    return True


DAY_STEPS = {"ticket_issue": _issue, "ticket_status": _status, "hall_state": _hall_state, "call_next": _call_next,
             "case_intake": _intake, "case_approve": _approve, "rating": _rate, "dashboard": _dashboard}


def _day_client(port: int, seconds: float, seed: int, tally: Tally, day: _Day, desk: tuple[str, int]) -> None:
    rng = random.Random(seed)  # noqa: S311  (a reproducible load mix, nothing secret)
    names = [op for op, _w in DAY_WEIGHTS]
    weights = [w for _op, w in DAY_WEIGHTS]
    client = _Connection(port)
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if not DAY_STEPS[rng.choices(names, weights)[0]](client, rng, tally, day, desk):
                _issue(client, rng, tally, day, desk)  # nothing to work on yet: a visitor takes a ticket
    finally:
        client.close()


def _warm_up_day(port: int, day: _Day) -> None:
    """Each operation of the day mix once before the clock starts (route tables, first statements)."""
    tally = Tally()
    rng = random.Random(0)  # noqa: S311
    client = _Connection(port)
    try:
        for step in (_issue, _status, _hall_state, _call_next, _intake, _approve, _approve, _rate, _dashboard,
                     _dashboard, _dashboard):
            step(client, rng, tally, day, day.desks[0])
    finally:
        client.close()
    if tally.errors:
        raise RuntimeError(f"warm-up refused: {tally.samples}")


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


def _invariants(url: str, acknowledged: list[tuple[str, str]], cases: list[tuple[int, str]] | None = None,
                ratings: list[int] | None = None) -> list[str]:
    """What is wrong in the database after the run: an acknowledged ticket, case or rating missing (or with another
    number), a ticket number given twice, a broken audit chain."""
    problems: list[str] = []
    engine = db.make_engine(url)
    try:
        with db.make_session_factory(engine)() as session:
            if cases:
                stored_cases = {case_id: number for case_id, number in session.execute(select(Case.id, Case.number))}
                lost_cases = [number for case_id, number in cases if stored_cases.get(case_id) != number]
                if lost_cases:
                    problems.append(f"{len(lost_cases)} acknowledged cases missing (e.g. {lost_cases[0]})")
            if ratings:
                stored_ratings = set(session.scalars(select(Rating.id)))
                lost_ratings = [r for r in ratings if r not in stored_ratings]
                if lost_ratings:
                    problems.append(f"{len(lost_ratings)} acknowledged ratings missing (e.g. {lost_ratings[0]})")
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
        sqlite_synchronous: str = "full", mix: str = "rush") -> dict[str, Any]:
    """Serve, drive, stop, check; the JSON-ready report (SQLite's synchronous mode is part of it)."""
    if mix not in MIXES:
        raise ValueError(f"unknown mix {mix!r}")
    with tempfile.TemporaryDirectory(prefix="onewindow-bench-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        _prepare(url)
        port = _free_port()
        server = _serve(url, port, workers, Path(tmp) / "uploads", sqlite_synchronous)
        tally = Tally()
        try:
            if mix == "rush":
                _warm_up(port)
                threads = [threading.Thread(target=_client, args=(port, seconds, seed + i, tally))
                           for i in range(clients)]
            else:
                day = _prepare_day(port, clients)
                _warm_up_day(port, day)
                threads = [threading.Thread(target=_day_client, args=(port, seconds, seed + i, tally, day,
                                                                      day.desks[i % len(day.desks)]))
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
        operations = {op: _figures(tally, op, elapsed)
                      for op in sorted(set(tally.latencies) | set(tally.errors) | set(tally.rejected))}
        violations = _invariants(url, tally.acknowledged, tally.cases, tally.ratings)
        requests = sum(len(v) for v in tally.latencies.values()) + sum(tally.errors.values()) + \
            sum(tally.rejected.values())
        cpu = {"server_ms_per_request": round(server_cpu * 1000 / requests, 2) if server_cpu and requests else None,
               "client_ms_per_request": round(client_cpu * 1000 / requests, 2) if requests else None}
        database = url.split(":", 1)[0]
        report = {"mix": mix, "database": database, "workers": workers, "clients": clients,
                  "sqlite_synchronous": sqlite_synchronous if database == "sqlite" else None,
                  "seconds": round(elapsed, 1), "operations": operations, "errors": tally.errors,
                  "rejected": tally.rejected, "invariant_violations": violations, "cpu": cpu,
                  "load_average": list(os.getloadavg())}
        if tally.samples:
            report["error_samples"] = tally.samples
        if tally.rejected_samples:
            report["rejected_samples"] = tally.rejected_samples
        return report


def _figures(tally: Tally, op: str, elapsed: float) -> dict[str, Any]:
    """One operation's count (answered as expected), rate, p50 / p99 (ms), errors and rejections."""
    v = tally.latencies.get(op, [])
    return {"count": len(v), "per_second": round(len(v) / elapsed, 1),
            "p50_ms": round(_percentile(v, 50) * 1000, 1) if v else None,
            "p99_ms": round(_percentile(v, 99) * 1000, 1) if v else None,
            "errors": tally.errors.get(op, 0), "rejected": tally.rejected.get(op, 0)}
