"""The 好差评 exchange: the export in JSON, CSV and Excel with masked ID numbers and Chinese labels, the
provincial push through the outbox, and who may export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.cases.models import Case
from onewindow.config import Settings
from onewindow.core.clock import FixedClock, today
from onewindow.notifications.models import OutboxMessage
from onewindow.ratings import exchange
from onewindow.ratings.models import Rating
from onewindow.rectification.models import RectificationOrder
from tests.factories import make_case, new_id_number

HEADERS = ["办件编号", "事项编码", "事项名称", "部门", "渠道", "评价人类型", "证件号", "评价时间", "等级", "分项",
           "文字", "整改结果"]


def _rating(session: Session, clock: FixedClock, case: Case, *, id_number: str, level: str = "unsatisfied",
            channel: str = "sms", comment: str = "等候时间太长") -> Rating:
    rating = Rating(subject="case", case_id=case.id, level=level, negative=level.endswith("unsatisfied"),
                    scores={"态度": "satisfied", "效率": level}, reasons=["等候时间长"], comment=comment,
                    channel=channel, identified=True, rater_name=case.applicant_name, rater_id_number=id_number,
                    rater_phone="13803731234", item_id=case.item_id, department_id=case.department_id,
                    rated_at=clock.now(), rated_on=today(clock))
    session.add(rating)
    session.flush()
    return rating


def _order(session: Session, clock: FixedClock, rating: Rating, department_id: int) -> RectificationOrder:
    order = RectificationOrder(number=f"ZG-T-{rating.id}", source_kind="rating", source_id=rating.id,
                               department_id=department_id, title="差评整改", state="closed",
                               opened_at=clock.now(), opened_on=today(clock), outcome="rectified",
                               updated_at=clock.now())
    session.add(order)
    session.flush()
    return order


@pytest.fixture
def rated(session: Session, clock: FixedClock) -> tuple[Case, Rating, str]:
    case = make_case(session, clock, state="approved")
    id_number = new_id_number()
    rating = _rating(session, clock, case, id_number=id_number, comment=f"我的身份证{id_number}，电话13803731234")
    _order(session, clock, rating, case.department_id)
    return case, rating, id_number


def test_the_exchange_record_has_the_provincial_fields_masked_and_labelled(
        session: Session, clock: FixedClock, rated: tuple[Case, Rating, str]) -> None:
    case, rating, id_number = rated
    [record] = [r for r in exchange.exchange_records(session, date_from=today(clock), date_to=today(clock))
                if r["rating_id"] == rating.id]
    assert record["case_number"] == case.number and record["item_name"] == case.title
    assert record["item_code"] and record["department"]
    assert (record["channel"], record["rater_type"], record["level"]) == ("短信", "实名", "不满意")
    assert record["rater_id_number"] == id_number[:6] + "********" + id_number[-4:]
    assert record["scores"] == {"态度": "满意", "效率": "不满意"}
    assert id_number not in record["comment"] and "13803731234" not in record["comment"]
    assert record["rectification"] == "已整改"
    assert not [r for r in exchange.exchange_records(session, date_from=today(clock) + dt.timedelta(days=1))
                if r["rating_id"] == rating.id]


def test_export_in_three_formats_for_admin(client: TestClient, token_for: Callable[[str], dict[str, str]],
                                           session: Session, rated: tuple[Case, Rating, str]) -> None:
    case, _, id_number = rated
    admin = token_for("admin")
    as_json = client.get("/api/v1/ratings/export?format=json", headers=admin)
    assert as_json.status_code == 200, as_json.text
    assert id_number not in as_json.text
    assert any(r["case_number"] == case.number and r["level"] == "不满意" for r in as_json.json())

    as_csv = client.get("/api/v1/ratings/export", params={"format": "csv", "date_from": "2026-11-01",
                                                          "date_to": "2026-12-31"}, headers=admin)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0] == HEADERS
    assert id_number not in as_csv.content.decode("utf-8-sig")
    [row] = [r for r in rows[1:] if r[0] == case.number]
    assert row[4] == "短信" and row[8] == "不满意" and "态度：满意" in row[9] and row[11] == "已整改"

    as_xlsx = client.get("/api/v1/ratings/export?format=xlsx", headers=admin)
    assert as_xlsx.status_code == 200 and "attachment" in as_xlsx.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    values = [[str(c.value or "") for c in r] for r in sheet.iter_rows()]
    assert values[0] == HEADERS
    assert any(v[0] == case.number and v[5] == "实名" for v in values[1:])
    assert not any(id_number in cell for v in values for cell in v)


@pytest.mark.parametrize(("username", "status"), [("admin", 200), ("supervisor", 200), ("clerk", 403),
                                                  ("zhangwei", 403)])
def test_who_may_export(client: TestClient, token_for: Callable[[str], dict[str, str]], username: str,
                        status: int) -> None:
    assert client.get("/api/v1/ratings/export?format=csv", headers=token_for(username)).status_code == status


def test_push_enqueues_each_new_rating_once_and_marks_it_pushed(
        session: Session, clock: FixedClock, rated: tuple[Case, Rating, str]) -> None:
    _, rating, id_number = rated
    assert exchange.push_new_ratings(session, clock=clock, settings=Settings(secret_key="k" * 20)) == 0
    assert rating.pushed_at is None
    settings = Settings(secret_key="k" * 20, ratings_push_url="https://province.example.cn/haocha")
    assert exchange.push_new_ratings(session, clock=clock, settings=settings) >= 1
    assert rating.pushed_at == clock.now()
    assert exchange.push_new_ratings(session, clock=clock, settings=settings) == 0
    pushed = [m for m in session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "rating.push"))
              if m.payload.get("rating_id") == rating.id]
    assert len(pushed) == 1
    [message] = pushed
    assert (message.channel, message.recipient) == ("http", "https://province.example.cn/haocha")
    assert message.payload["level"] == "不满意" and id_number not in str(message.payload)
