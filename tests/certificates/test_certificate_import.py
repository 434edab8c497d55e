"""Importing a department's register: every row checked first, nothing partial, each problem names its row."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow import db
from onewindow.certificates import service
from onewindow.certificates.demo import FENGYUAN, ZHANG_WEI, demo_id_number
from onewindow.certificates.files import read_rows
from onewindow.certificates.models import Certificate
from onewindow.cli_support import CLI_ACTOR
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.core.errors import ValidationFailed
from onewindow.county_file import import_catalog
from onewindow.demo import reference_catalog

START = dt.datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)
CLI = [sys.executable, "-c", "from onewindow.cli import main; main()"]
PERSON = demo_id_number("41072420000101007")
BAD_ID = PERSON[:17] + ("0" if PERSON[17] != "0" else "1")


def _row(**over: Any) -> dict[str, Any]:
    row = {"type": "FOOD_LICENSE", "number": "JY14107240001", "holder_id": FENGYUAN,
           "holder_name": "获嘉县丰源商贸有限公司", "issued_date": "2024-03-01", "expires_date": "2029-02-28"}
    row.update(over)
    return row


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Certificate)) or 0


def test_good_rows_are_created_and_existing_numbers_updated_not_duplicated(session: Session,
                                                                           clock: FixedClock) -> None:
    before = _count(session)
    rows = [_row(), _row(type="ID_CARD", number="ID-1", holder_id=PERSON.lower(), holder_name="赵六",
                         expires_date="长期", issuer="获嘉县公安局")]
    result = service.import_certificates(session, clock=clock, actor=CLI_ACTOR, rows=rows)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    again = service.import_certificates(session, clock=clock, actor=CLI_ACTOR,
                                        rows=[_row(expires_date="2030-02-28"), rows[1]])
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    assert _count(session) == before + 2
    [food] = [c for c in service.certificates_of(session, holder_id=FENGYUAN) if c.number == "JY14107240001"]
    assert food.expires_date is not None and food.expires_date.year == 2030
    assert food.issuer == "市场监督管理部门" and food.source == "import"  # the type's issuer when none given
    [card] = service.certificates_of(session, holder_id=PERSON)
    assert card.holder_id == PERSON and card.expires_date is None and len(card.check_code) == 8


def test_any_bad_row_writes_nothing_and_each_problem_names_its_row(session: Session, clock: FixedClock) -> None:
    before = _count(session)
    rows = [
        _row(),                                                      # 1: good
        _row(number="X-2", type="NO_SUCH_TYPE"),                     # 2: unknown type
        _row(number="X-3", type="ID_CARD", holder_id=BAD_ID),        # 3: ID checksum
        _row(number="X-4", holder_id=ZHANG_WEI),                     # 4: enterprise type, person ID
        _row(number="X-5", issued_date="2024-02-30"),                # 5: not a date
        _row(number="X-6", issued_date="2024-05-01", expires_date="2024-04-30"),  # 6: expiry before issue
        _row(),                                                      # 7: duplicate of row 1
        _row(number="X-8", holder_name=""),                          # 8: missing name
    ]
    with pytest.raises(ValidationFailed) as caught:
        service.import_certificates(session, clock=clock, actor=CLI_ACTOR, rows=rows, first_row=2)
    by_row = {p.field.split("]")[0].removeprefix("rows["): p for p in caught.value.problems}
    assert set(by_row) == {"3", "4", "5", "6", "7", "8", "9"}
    codes = {row: p.code for row, p in by_row.items()}
    assert codes == {"3": "unknown_certificate_type", "4": "id_number_check_digit", "5": "credit_code_check_digit",
                     "6": "date_format", "7": "expires_before_issued", "8": "duplicate_in_file",
                     "9": "holder_name_required"}
    assert all(p.message.startswith(f"第 {row} 行") for row, p in by_row.items())
    assert "第 2 行" in by_row["8"].message
    assert _count(session) == before


def test_existing_number_cannot_change_holder_or_come_back_from_revoked(session: Session, clock: FixedClock) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.import_certificates(session, clock=clock, actor=CLI_ACTOR, rows=[
            {"type": "ID_CARD", "number": "ID_CARD-DEMO-000001", "holder_id": PERSON, "holder_name": "赵六",
             "issued_date": "2020-01-01"},
            {"type": "MARRIAGE_CERT", "number": "MARRIAGE_CERT-DEMO-000001",
             "holder_id": demo_id_number("41072419920908004"), "holder_name": "王芳", "issued_date": "2022-01-01"}])
    assert [p.code for p in caught.value.problems] == ["holder_changed", "revoked_certificate"]


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_csv_with_chinese_headers_and_json_files_are_read(tmp_path: Path, session: Session, clock: FixedClock) -> None:
    header = ["证照类型", "证照编号", "持证主体代码", "持证主体名称", "发证日期", "有效期至", "状态", "经营场所"]
    path = _write_csv(tmp_path / "r.csv", header,
                      [["FOOD_LICENSE", "JY-CSV-1", FENGYUAN, "丰源", "2024/03/01", "", "有效", "城关镇新华街 8 号"]])
    rows, first = read_rows(path)
    assert first == 2 and rows[0]["holder_id"] == FENGYUAN and rows[0]["data"] == {"经营场所": "城关镇新华街 8 号"}
    (tmp_path / "r.json").write_text(json.dumps([_row(number="JY-JSON-1", data={"主体业态": "食品销售经营者"})],
                                                ensure_ascii=False), encoding="utf-8")
    json_rows, json_first = read_rows(tmp_path / "r.json")
    assert json_first == 1
    result = service.import_certificates(session, clock=clock, actor=CLI_ACTOR, rows=rows + json_rows)
    assert result.created == 2
    with pytest.raises(ValidationFailed) as caught:
        read_rows(_write_csv(tmp_path / "short.csv", ["证照编号", "holder_name"], [["1", "x"]]))
    assert caught.value.code == "columns_missing"


@pytest.fixture
def db_url(databases: Any) -> str:
    """A fresh database holding only the reference catalog (its certificate types)."""
    url: str = databases.new_url("certificates-cli")
    engine = db.make_engine(url)
    databases.created.append((url, engine))
    db.upgrade(engine)
    with db.make_session_factory(engine)() as s, s.begin():
        import_catalog(s, clock=FixedClock(START), actor=CLI_ACTOR, data=reference_catalog())
    return url


def _run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ONEWINDOW_DATABASE_URL": db_url}
    return subprocess.run([*CLI, "certificates", *args], env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def _db_count(db_url: str) -> int:
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Certificate)) or 0
    finally:
        engine.dispose()


def test_cli_imports_a_good_file_and_rejects_a_bad_one_with_one_line_per_problem(db_url: str,
                                                                                  tmp_path: Path) -> None:
    header = ["type", "number", "holder_id", "holder_name", "issued_date", "expires_date"]
    bad = _write_csv(tmp_path / "bad.csv", header, [
        ["BIZ_LICENSE", "B-1", FENGYUAN, "丰源", "2024-01-01", ""],
        ["BIZ_LICENSE", "B-2", FENGYUAN[:17] + "0", "坏", "2024-01-01", ""],
        ["ID_CARD", "I-1", PERSON, "赵六", "2024-01-01", "2023-01-01"]])
    done = _run(db_url, "import", str(bad))
    assert done.returncode == 1, done.stdout + done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("错误：")]
    assert len(lines) == 2 and "第 3 行" in lines[0] and "第 4 行" in lines[1]
    assert _db_count(db_url) == 0
    good = _write_csv(tmp_path / "good.csv", header, [["BIZ_LICENSE", "B-1", FENGYUAN, "丰源", "2024-01-01", ""]])
    done = _run(db_url, "import", str(good))
    assert done.returncode == 0, done.stderr
    assert "新增 1" in done.stdout and _db_count(db_url) == 1
    chinese_json = tmp_path / "register.json"
    chinese_json.write_text(json.dumps([{"证照类型": "ID_CARD", "证照编号": "I-2", "持证主体代码": PERSON,
                                         "持证主体名称": "赵六", "发证日期": "2024-01-01", "有效期至": "长期"}],
                                       ensure_ascii=False), encoding="utf-8")
    done = _run(db_url, "import", str(chinese_json))
    assert done.returncode == 0, done.stderr
    assert _db_count(db_url) == 2
    missing = _run(db_url, "import", str(tmp_path / "none.csv"))
    assert missing.returncode == 1 and "文件不存在" in missing.stderr
