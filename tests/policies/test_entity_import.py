"""Importing the register from CSV, Parquet and Excel: every row checked first, nothing partial, rows named."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from onewindow.cli import app
from onewindow.cli_support import CLI_ACTOR
from onewindow.config import get_settings
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.core.errors import ValidationFailed
from onewindow.county_file import import_catalog
from onewindow.db import make_session_factory
from onewindow.demo import reference_catalog
from onewindow.policies import service
from onewindow.policies.demo_register import credit_code, id_number
from onewindow.policies.models import Entity
from onewindow.policies.register_files import read_table

GOOD_CODE, OTHER_CODE = credit_code(900), credit_code(901)
BAD_CODE = GOOD_CODE[:-1] + ("0" if GOOD_CODE[-1] != "0" else "1")
START = dt.datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)
HEADER = ["统一社会信用代码", "名称", "employees", "is_small_micro", "qualifications", "是否高新技术企业"]


def _entities(session: Session, kind: str = "enterprise") -> int:
    return int(session.scalar(select(func.count()).select_from(Entity).where(Entity.kind == kind)) or 0)


def _write_csv(path: Path, rows: list[list[Any]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def test_good_csv_creates_typed_entities_and_a_second_import_changes_nothing(
        session: Session, clock: FixedClock, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "ok.csv", [
        [GOOD_CODE, "获嘉县测试机械有限公司", "12", "是", "个转企；守合同重信用企业", "否"],
        [OTHER_CODE.lower(), "获嘉县测试商贸有限公司", "", "false", "", ""],
    ])
    before = _entities(session)
    header, rows = read_table(path)
    first = service.import_entities(session, clock=clock, actor=CLI_ACTOR, kind="enterprise", header=header, rows=rows)
    assert (first.created, first.updated) == (2, 0)
    assert _entities(session) == before + 2
    e = service.get_entity(session, "enterprise", GOOD_CODE)
    assert e.data["employees"] == 12 and e.data["is_small_micro"] is True and e.data["is_high_tech"] is False
    assert e.data["qualifications"] == ["个转企", "守合同重信用企业"]
    assert e.data["annual_revenue_wan"] is None  # a column not in the file is unknown, not zero
    assert service.get_entity(session, "enterprise", OTHER_CODE).data["employees"] is None
    again = service.import_entities(session, clock=clock, actor=CLI_ACTOR, kind="enterprise", header=header, rows=rows)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_bad_rows_are_all_named_and_nothing_is_written(session: Session, clock: FixedClock, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "bad.csv", [
        [GOOD_CODE, "好的一行", "12", "是", "", ""],
        [BAD_CODE, "校验码错", "12", "是", "", ""],
        [OTHER_CODE, "类型错", "十二", "也许", "", ""],
        [GOOD_CODE, "重复", "3", "否", "", ""],
        [credit_code(902), "", "3", "否", "", ""],
    ], header=[*HEADER, "colour"])
    before = _entities(session)
    header, rows = read_table(path)
    with pytest.raises(ValidationFailed) as info:
        service.import_entities(session, clock=clock, actor=CLI_ACTOR, kind="enterprise", header=header, rows=rows)
    problems = {(p.field, p.code) for p in info.value.problems}
    assert ("表头", "unknown_column") in problems
    # the header problem stops before rows are read; fix the header and every row problem shows
    assert _entities(session) == before
    header = header[:-1]
    rows = [r[:-1] for r in rows]
    with pytest.raises(ValidationFailed) as info:
        service.import_entities(session, clock=clock, actor=CLI_ACTOR, kind="enterprise", header=header, rows=rows)
    problems = {(p.field, p.code) for p in info.value.problems}
    assert ("第3行.统一社会信用代码", "credit_code_check_digit") in problems
    assert ("第4行.employees", "wrong_type") in problems
    assert ("第4行.is_small_micro", "wrong_type") in problems
    assert ("第5行.统一社会信用代码", "duplicate_identifier") in problems
    assert ("第6行.名称", "missing_name") in problems
    assert _entities(session) == before  # not even the good first row


def test_person_id_numbers_are_checked_by_gb_11643(session: Session, clock: FixedClock) -> None:
    good = id_number(900, 40, clock.now().date())
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationFailed) as info:
        service.import_entities(session, clock=clock, actor=CLI_ACTOR, kind="person",
                                header=["身份证号", "姓名", "age"], rows=[[good, "张三", 40], [bad, "李四", 41]])
    assert [(p.field, p.code) for p in info.value.problems] == [("第3行.公民身份号码", "id_number_check_digit")]
    with pytest.raises(ValidationFailed) as info:
        service.import_entities(session, clock=clock, actor=CLI_ACTOR, kind="person", header=["姓名", "age"], rows=[])
    assert info.value.problems[0].code == "missing_identifier"


def test_parquet_and_excel_files_import_like_csv(session: Session, clock: FixedClock, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from openpyxl import Workbook

    table = pa.table({"identifier": [GOOD_CODE], "name": ["获嘉县列存有限公司"], "employees": [7],
                      "qualifications": [["个转企"]], "layoff_rate": [1.5]})
    pq.write_table(table, tmp_path / "r.parquet")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["identifier", "name", "从业人数", "is_high_tech"])
    sheet.append([OTHER_CODE, "获嘉县表格有限公司", 25, True])
    book.save(tmp_path / "r.xlsx")
    for name in ("r.parquet", "r.xlsx"):
        header, rows = read_table(tmp_path / name)
        service.import_entities(session, clock=clock, actor=CLI_ACTOR, kind="enterprise", header=header, rows=rows)
    p = service.get_entity(session, "enterprise", GOOD_CODE).data
    assert (p["employees"], p["qualifications"], p["layoff_rate"]) == (7, ["个转企"], 1.5)
    x = service.get_entity(session, "enterprise", OTHER_CODE).data
    assert (x["employees"], x["is_high_tech"]) == (25, True)


@pytest.fixture
def cli_db(databases: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh migrated database with the reference catalog (register fields), as the CLI's database."""
    engine = databases.new_engine("entities-cli")
    with make_session_factory(engine)() as s, s.begin():
        import_catalog(s, clock=FixedClock(START), actor=CLI_ACTOR, data=reference_catalog())
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()


def test_cli_imports_a_file_or_prints_one_line_per_problem_and_exits_1(cli_db: Any, tmp_path: Path) -> None:
    bad = _write_csv(tmp_path / "bad.csv", [[BAD_CODE, "坏", "1", "", "", ""], [GOOD_CODE, "好", "x", "", "", ""]])
    result = CliRunner().invoke(app, ["entities", "import", str(bad), "--kind", "enterprise"])
    assert result.exit_code == 1
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("错误：")]
    assert len(lines) == 2 and "第2行" in lines[0] and "第3行" in lines[1]
    with make_session_factory(cli_db)() as s:
        assert _entities(s) == 0
    good = _write_csv(tmp_path / "good.csv", [[GOOD_CODE, "获嘉县好企业有限公司", "12", "是", "个转企", "否"]])
    result = CliRunner().invoke(app, ["entities", "import", str(good), "--kind", "enterprise"])
    assert result.exit_code == 0, result.output
    assert "新增 1" in result.stdout
    with make_session_factory(cli_db)() as s:
        assert _entities(s) == 1
    result = CliRunner().invoke(app, ["entities", "import", str(tmp_path / "none.csv"), "--kind", "enterprise"])
    assert result.exit_code == 1 and "文件不存在" in result.stderr
    result = CliRunner().invoke(app, ["entities", "import", str(good), "--kind", "robot"])
    assert result.exit_code == 1 and "未知的主体类型" in result.stderr
