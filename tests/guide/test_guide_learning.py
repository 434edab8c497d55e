"""Learning from use: the unanswered-question desk, one-click mappings, the evaluation set, answer feedback."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.conftest import Browser

from onewindow.core.audit import AuditEntry
from onewindow.guide.models import GuideFeedback, GuideMapping

QUESTION = "那个红本子泡水了"
ANSWER = "410724-BDC-QR-007"  # 不动产权证书补发、换发
HTML = {"Accept": "text/html"}


def _ask(client: TestClient, q: str) -> dict[str, Any]:
    r = client.get("/api/v1/guide/search", params={"q": q})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_an_admin_maps_an_unanswered_question_in_one_click_and_the_guide_learns_it(
        client: TestClient, login: Callable[[str], Browser], session: Session) -> None:
    assert not _ask(client, QUESTION)["good"]
    admin = login("admin")
    desk = admin.client.get("/admin/guide")
    assert desk.status_code == 200
    assert QUESTION in desk.text
    audits = session.scalar(select(func.count()).select_from(AuditEntry))

    r = admin.post("/admin/guide/mappings", {"query": QUESTION, "code": ANSWER})
    assert r.status_code == 303, r.text

    answer = _ask(client, QUESTION)
    assert answer["good"] and answer["hits"][0]["code"] == ANSWER
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == (audits or 0) + 1
    desk = admin.client.get("/admin/guide")
    assert re.search(rf"<td>{QUESTION}</td>\s*<td>不动产权证书补发、换发", desk.text)  # mapped, no longer open
    tsv = admin.client.get("/admin/guide/evaluation.tsv")
    assert tsv.status_code == 200
    assert f"{QUESTION}\t{ANSWER}" in tsv.text.splitlines()


def test_mapping_to_an_unknown_code_is_422_and_writes_nothing(
        login: Callable[[str], Browser], session: Session) -> None:
    admin = login("admin")
    r = admin.post("/admin/guide/mappings", {"query": QUESTION, "code": "NO-SUCH-CODE"})
    assert r.status_code == 422
    assert "请选择在办的事项或一件事" in r.text
    assert session.scalar(select(func.count()).select_from(GuideMapping)) == 0


def test_supervision_reads_the_desk_but_only_admins_map(
        login: Callable[[str], Browser], client: TestClient, token_for: Callable[[str], dict[str, str]]) -> None:
    supervisor = login("supervisor")
    assert supervisor.client.get("/admin/guide").status_code == 200
    assert supervisor.post("/admin/guide/mappings", {"query": QUESTION, "code": ANSWER}).status_code == 403
    assert login("clerk").client.get("/admin/guide").status_code == 403
    r = client.post("/api/v1/guide/mappings", json={"query": QUESTION, "code": ANSWER},
                    headers=token_for("supervisor"))
    assert r.status_code == 403
    r = client.post("/api/v1/guide/mappings", json={"query": QUESTION, "code": ANSWER}, headers=token_for("admin"))
    assert r.status_code == 201, r.text
    listed = client.get("/api/v1/guide/mappings", headers=token_for("supervisor")).json()
    assert [(m["query"], m["code"], m["kind"]) for m in listed] == [(QUESTION, ANSWER, "item")]


def test_did_this_answer_help_is_logged_without_personal_numbers(app: FastAPI, session: Session) -> None:
    visitor = TestClient(app, headers=HTML)
    page = visitor.get("/", params={"q": "结婚登记"})
    assert "这个回答有帮助吗" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    r = visitor.post("/guide/feedback", data={"csrf_token": token[1], "q": "结婚登记 13812345678",
                                              "code": "410724-MZJ-QR-001", "helpful": "no"},
                     headers={"HX-Request": "true"})
    assert r.status_code == 200 and "谢谢反馈" in r.text
    row = session.scalars(select(GuideFeedback)).one()
    assert not row.helpful and row.top_code == "410724-MZJ-QR-001"
    assert "13812345678" not in row.query_text
    assert visitor.post("/guide/feedback", data={"q": "结婚登记", "helpful": "yes"}).status_code == 403  # no token
    bad = visitor.post("/guide/feedback", data={"csrf_token": token[1], "q": "结婚登记", "helpful": "maybe"})
    assert bad.status_code == 422
