"""The supervisor's 有诉即办 pages over HTTP: figures and 未诉先办, the 台账 download, the 12345 upload, the 工作单."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.complaints import hotline
from onewindow.complaints.models import Complaint
from tests.complaints.ledger_support import Lead, at, make_order
from tests.conftest import Browser

ROW = {"accepted_at": "2026-11-20 09:15", "category": "投诉", "subject": "窗口排队时间过长", "content": "排队两小时。",
       "complainant_name": "李女士", "complainant_phone": "13912345678", "department": "SCJG"}


def _orders(session: Session) -> None:
    for day, subject in ((20, "小区垃圾清运不及时"), (21, "垃圾清运太慢，请回电13812345678"), (22, "楼下垃圾无人清运")):
        make_order(session, dept="SCJG", accepted_at=at(11, day), due_on=dt.date(2026, 12, 8), subject=subject,
                   state="handling", leads=(Lead("SCJG", at(11, day), signed_at=at(11, day, 11)),))
    make_order(session, dept="WJW", accepted_at=at(11, 21), due_on=dt.date(2026, 11, 25), category="consult",
               subject="出生医学证明补办", state="dispatched", leads=(Lead("WJW", at(11, 21)),))


def test_figures_page_shows_rates_recurring_subjects_and_the_ledger_form(
        login: Callable[[str], Browser], session: Session) -> None:
    _orders(session)
    page = login("supervisor").client.get("/complaints/figures?date_from=2026-11-01&date_to=2026-11-30")
    assert page.status_code == 200, page.text
    assert 'data-group="获嘉县市场监督管理局"' in page.text and 'data-group="合计"' in page.text
    assert 'data-key="垃圾"' in page.text and "新出现" in page.text and 'id="ledger-form"' in page.text
    assert "13812345678" not in page.text and "138****5678" in page.text  # an example subject, masked
    head = login("head_scjg").client.get("/complaints/figures?date_from=2026-11-01&date_to=2026-11-30&by=category")
    assert head.status_code == 200 and "获嘉县卫生健康委员会" not in head.text
    assert login("clerk").client.get("/complaints/figures").status_code == 403
    bad = login("admin").client.get("/complaints/figures?date_from=2026-13-01")
    assert bad.status_code == 422


def test_the_ledger_downloads_as_excel(login: Callable[[str], Browser], session: Session) -> None:
    _orders(session)
    r = login("admin").client.get("/complaints/figures/ledger.xlsx?date_from=2026-11-01&date_to=2026-11-30"
                                  "&category=consult")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))[2:]
    assert "出生医学证明补办" in [row[5] for row in rows] and {row[3] for row in rows} == {"咨询"}
    assert login("admin").client.get("/complaints/figures/ledger.xlsx?state=bogus").status_code == 422


def _upload(browser: Browser, name: str, data: bytes) -> str:
    r = browser.client.post("/complaints/import", data={"csrf_token": browser.csrf}, files={"file": (name, data)})
    return f"{r.status_code} {r.text}"


def test_the_dispatcher_uploads_a_12345_file_once(login: Callable[[str], Browser], session: Session) -> None:
    admin = login("admin")
    assert admin.client.get("/complaints/import").status_code == 200
    data = hotline.to_csv([{**ROW, "external_number": f"WEB-{i}"} for i in range(2)]).encode()
    before = session.scalar(select(func.count()).select_from(Complaint))
    first = _upload(admin, "12345.csv", data)
    assert first.startswith("200") and "data-created>2<" in first
    again = _upload(admin, "12345.csv", data)
    assert again.startswith("200") and "data-created>0<" in again and "data-skipped>2<" in again
    bad = _upload(admin, "bad.csv", hotline.to_csv([{**ROW, "external_number": "WEB-9", "department": "无此局"}])
                  .encode())
    assert bad.startswith("422") and 'data-field="rows[2].department"' in bad and "第 2 行（承办单位）" in bad
    assert session.scalar(select(func.count()).select_from(Complaint)) == (before or 0) + 2
    refused = login("supervisor")
    assert refused.client.get("/complaints/import").status_code == 403
    assert _upload(refused, "12345.csv", data).startswith("403")
    no_token = admin.client.post("/complaints/import", files={"file": ("12345.csv", data)})
    assert no_token.status_code == 403


def test_work_order_pdf_and_json_figures(login: Callable[[str], Browser], session: Session, client: TestClient,
                                         token_for: Callable[[str], dict[str, str]]) -> None:
    _orders(session)
    order = session.scalars(select(Complaint).where(Complaint.subject == "出生医学证明补办")).one()
    pdf = login("supervisor").client.get(f"/complaints/{order.id}/worksheet.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert login("head_scjg").client.get(f"/complaints/{order.id}/worksheet.pdf").status_code == 403
    r = client.get("/api/v1/complaints/figures?date_from=2026-11-01&date_to=2026-11-30",
                   headers=token_for("supervisor"))
    assert r.status_code == 200, r.text
    assert r.json()["total"]["counts"]["orders"] >= 4
    recurring = client.get("/api/v1/complaints/recurring", headers=token_for("supervisor")).json()
    assert "垃圾" in {k["key"] for k in recurring["keywords"]}
