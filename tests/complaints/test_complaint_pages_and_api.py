"""The 有诉即办 pages and API: the window files, the dispatcher dispatches, the department signs, returns and
replies from its inbox, the public page files (rate-limited) and tracks by code; the API carries versions."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.complaints.models import Complaint
from tests.complaints.support import PHONE, department
from tests.conftest import HTML, Browser


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found[1]


def test_window_dispatch_inbox_reply_and_tracking_through_the_pages(login: Callable[[str], Browser],
                                                                    session: Session, client: TestClient) -> None:
    clerk = login("clerk")
    assert clerk.client.get("/complaints/window").status_code == 200
    r = clerk.post("/complaints/window", {"category": "", "subject": "", "content": "x"})
    assert r.status_code == 422 and "请选择诉求类别" in r.text and "请填写诉求标题" in r.text
    r = clerk.post("/complaints/window", {"category": "complain", "subject": "窗口推诿", "content": "多次被推走",
                                          "complainant_name": "赵投诉", "complainant_phone": PHONE})
    assert r.status_code == 303
    c = session.scalars(select(Complaint).where(Complaint.subject == "窗口推诿")).one()
    page = clerk.client.get(r.headers["location"]).text
    assert c.number in page and PHONE not in page and "139****5678" in page

    admin = login("admin")
    assert c.number in admin.client.get("/complaints/dispatch").text
    r = admin.post(f"/complaints/{c.id}/dispatch", {"version": str(c.version), "lead_department_id": "999999"})
    assert r.status_code == 422 and "没有这个部门" in r.text
    r = admin.post(f"/complaints/{c.id}/dispatch",
                   {"version": str(c.version), "lead_department_id": str(department(session, "SCJG").id)})
    assert r.status_code == 303

    head = login("head_scjg")
    inbox = head.client.get("/complaints/inbox").text
    assert c.number in inbox and 'data-colour="green"' in inbox
    assert login("head_gaj").client.get(f"/complaints/{c.id}").status_code == 403
    session.refresh(c)
    assert head.post(f"/complaints/{c.id}/sign", {"version": str(c.version)}).status_code == 303
    session.refresh(c)
    r = head.post(f"/complaints/{c.id}/reply", {"version": str(c.version), "reply": ""})
    assert r.status_code == 422 and "请填写答复内容" in r.text
    r = head.post(f"/complaints/{c.id}/reply", {"version": str(c.version), "reply": "已约谈窗口负责人，当面致歉。"})
    assert r.status_code == 303
    r = client.get(f"/complaint/track?code={c.tracking_code}", headers=HTML)
    assert r.status_code == 200 and "已约谈窗口负责人" in r.text and "赵投诉" not in r.text and "5678" not in r.text
    assert client.get("/complaint/track?code=ZZZZZZZZZZ", headers=HTML).status_code == 404


def test_public_filing_is_anonymous_friendly_and_rate_limited(client: TestClient, session: Session) -> None:
    client.app.state.settings.complaint_public_per_hour = 2  # type: ignore[attr-defined]
    page = client.get("/complaint", headers=HTML)
    assert page.status_code == 200 and "<svg" in page.text
    token = _csrf(page.text)
    r = client.post("/complaint", data={"csrf_token": token, "category": "", "subject": "", "content": ""},
                    headers=HTML)
    assert r.status_code == 422 and "请选择诉求类别" in r.text
    for i in range(2):
        r = client.post("/complaint", data={"csrf_token": token, "category": "suggest", "subject": f"建议{i}",
                                            "content": "大厅增加母婴室", "anonymous": "1"}, headers=HTML)
        assert r.status_code == 200 and "查询码" in r.text
    r = client.post("/complaint", data={"csrf_token": token, "category": "suggest", "subject": "再一个",
                                        "content": "x", "anonymous": "1"}, headers=HTML)
    assert r.status_code == 429 and "提交过于频繁" in r.text
    assert client.post("/complaint", data={"category": "suggest"}, headers=HTML).status_code == 403  # no CSRF
    filed = session.scalars(select(Complaint).where(Complaint.channel == "online",
                                                    Complaint.subject.in_(["建议0", "建议1"]))).all()
    assert len(filed) == 2 and all(c.anonymous and c.complainant_name == "" for c in filed)
    assert client.get("/complaint/qr.svg").headers["content-type"].startswith("image/svg+xml")


def test_a_town_centers_qr_code_records_where_the_complaint_was_filed(client: TestClient, session: Session) -> None:
    page = client.get("/complaint?hall=HJ-CGZ", headers=HTML)
    assert "城关镇便民服务中心" in page.text and 'name="hall" value="HJ-CGZ"' in page.text
    r = client.post("/complaint", data={"csrf_token": _csrf(page.text), "hall": "HJ-CGZ", "category": "help",
                                        "subject": "镇中心自助机坏了", "content": "无法打印", "anonymous": "1"},
                    headers=HTML)
    assert r.status_code == 200
    c = session.scalars(select(Complaint).where(Complaint.subject == "镇中心自助机坏了")).one()
    assert c.hall is not None and c.hall.code == "HJ-CGZ"
    assert client.get("/complaint/qr.svg?hall=HJ-CGZ").status_code == 200


def test_the_api_files_dispatches_and_answers_with_versions(client: TestClient,
                                                            token_for: Callable[[str], dict[str, str]],
                                                            session: Session) -> None:
    clerk, admin, head = token_for("clerk"), token_for("admin"), token_for("head_scjg")
    r = client.post("/api/v1/complaints", headers=clerk, json={"category": "咨询", "subject": "公积金提取",
                                                               "content": "要带什么", "complainant_name": "钱咨询",
                                                               "complainant_phone": PHONE})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["category"] == "consult" and body["complainant_phone"] == "139****5678"
    assert body["allowed_actions"] == []  # the window files; the center dispatches
    cid = body["id"]
    r = client.post("/api/v1/complaints", headers=clerk, json={"subject": "x"})
    assert r.status_code == 422 and {p["field"] for p in r.json()["errors"]} >= {"category", "content"}
    r = client.post(f"/api/v1/complaints/{cid}/dispatch", headers=admin,
                    json={"version": 1, "lead_department_id": department(session, "SCJG").id})
    assert r.status_code == 200 and r.json()["state"] == "dispatched"
    assert client.post(f"/api/v1/complaints/{cid}/sign", headers=head, json={"version": 1}).status_code == 409
    assert client.post(f"/api/v1/complaints/{cid}/callback", headers=token_for("supervisor"),
                       json={"version": 2, "verdict": "satisfied"}).status_code == 409
    inbox = client.get("/api/v1/complaints/inbox", headers=head).json()
    [row] = [row for row in inbox if row["id"] == cid]
    assert row["colour"] == "green" and row["signed"] is False
    r = client.post(f"/api/v1/complaints/{cid}/sign", headers=head, json={"version": 2})
    assert r.status_code == 200 and r.json()["state"] == "handling"
    r = client.post(f"/api/v1/complaints/{cid}/reply", headers=head, json={"version": 3, "reply": "带身份证即可"})
    assert r.status_code == 200 and r.json()["state"] == "replied"
    filed = client.post("/api/v1/public/complaints", json={"category": "help", "subject": "求助",
                                                           "content": "老人不会用自助机", "anonymous": True})
    assert filed.status_code == 201
    tracked = client.get(f"/api/v1/public/complaints/{filed.json()['tracking_code']}").json()
    assert tracked["state"] == "accepted" and tracked["department"] == "有诉即办中心"
    assert client.get("/api/v1/public/complaints/NOPE2345").status_code == 404
