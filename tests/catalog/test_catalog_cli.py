"""``onewindow catalog import|export``, run as the real command on a fresh database of the selected backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from onewindow import db
from onewindow.catalog.cli import catalog_app
from onewindow.catalog.models import Item
from onewindow.cli_support import CLI_ACTOR
from onewindow.core.clock import SystemClock
from onewindow.county_file import import_catalog
from onewindow.demo import reference_catalog

CLI = [sys.executable, "-c", "from onewindow.cli import main; main()"]


@pytest.fixture
def db_url(databases: Any) -> str:
    """A fresh, not yet migrated database (dropped at the end of the run)."""
    url: str = databases.new_url("catalog-cli")
    databases.created.append((url, db.make_engine(url)))
    return url


def _run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ONEWINDOW_DATABASE_URL": db_url}
    return subprocess.run([*CLI, "catalog", *args], env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _item_count(db_url: str) -> int:
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Item)) or 0
    finally:
        engine.dispose()


def test_reference_imports_every_row_then_nothing_changes_and_exports_back(db_url: str, tmp_path: Path) -> None:
    reference = _write(tmp_path / "catalog.json", reference_catalog())
    first = _run(db_url, "import", str(reference), "--json")
    assert first.returncode == 0, first.stderr
    created = json.loads(first.stdout)["created"]
    assert (created["items"], created["bundles"], created["policies"]) == (99, 10, 19)

    second = _run(db_url, "import", str(reference))
    assert second.returncode == 0, second.stderr
    assert "catalog.json 导入完成：已新建 0 条，已变更 0 条，未变 204 条，警告 8 条" in second.stdout
    assert "警告：items[29]（410724-GAJ-QR-002）.fee" in second.stdout

    exported = _run(db_url, "export", str(tmp_path / "out.json"))
    assert exported.returncode == 0, exported.stderr
    assert json.loads((tmp_path / "out.json").read_text("utf-8")) == reference_catalog()


def test_one_bad_reference_imports_nothing_and_names_the_row(db_url: str, tmp_path: Path) -> None:
    data = reference_catalog()
    data["items"][12]["department"] = "FOO"
    result = _run(db_url, "import", str(_write(tmp_path / "bad.json", data)))
    assert result.returncode == 1
    code = data["items"][12]["code"]
    expected = f"错误：items[12]（{code}）.department: 未知部门编码：FOO [unknown_department]"
    assert result.stderr.splitlines()[-1] == expected
    assert _item_count(db_url) == 0


def test_every_problem_of_a_file_is_listed_one_per_line(db_url: str, tmp_path: Path) -> None:
    data = reference_catalog()
    data["items"][0]["promised_limit_days"] = 30
    data["items"][1]["colour"] = "red"
    data["bundles"][0]["items"][0] = "NOPE-1"
    data["policies"][0]["department"] = "XX"
    result = _run(db_url, "import", str(_write(tmp_path / "bad.json", data)), "--dry-run")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("错误：")]
    assert [e.split(": ")[0] for e in errors] == [
        f"错误：items[0]（{data['items'][0]['code']}）.promised_limit_days",
        f"错误：items[1]（{data['items'][1]['code']}）.colour",
        "错误：bundles[0]（YJS-NEWBORN）.items[0]",
        "错误：policies[0]（ZC-QY-01）.department",
    ]
    assert "不允许的字段" in errors[1]
    assert "Traceback" not in result.stderr


def test_json_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{\n "items": [\n  {"code": "X",}\n ]\n}\n', encoding="utf-8")
    result = CliRunner().invoke(catalog_app, ["import", str(broken)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"错误：{broken}: 第 3 行第 16 列：JSON 格式错误（")
    assert len(result.stderr.splitlines()) == 1


def test_workbook_export_then_import_dry_run_reports_no_change(db_url: str, tmp_path: Path) -> None:
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    with db.make_session_factory(engine)() as session, session.begin():
        import_catalog(session, clock=SystemClock(), actor=CLI_ACTOR, data=reference_catalog())
    engine.dispose()
    workbook = tmp_path / "items.xlsx"
    exported = _run(db_url, "export", str(workbook))
    assert exported.returncode == 0, exported.stderr
    assert "已导出 99 个事项" in exported.stdout
    result = _run(db_url, "import", str(workbook), "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert (body["dry_run"], body["changed"], body["unchanged"]) == (True, {"items": 0}, {"items": 99})


@pytest.mark.parametrize(("args", "message"), [
    (["import", "missing.json"], "错误：文件不存在：missing.json"),
    (["import", "catalog.csv"], "错误：不支持的文件类型：catalog.csv（可用：.json / .xlsx）"),
    (["export", "no-such-dir/out.json"], "错误：目录不存在：no-such-dir"),
])
def test_file_mistakes_exit_1_with_one_line(args: list[str], message: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(catalog_app, args)
    assert result.exit_code == 1
    assert result.stderr.strip() == message


def test_missing_argument_is_a_usage_error() -> None:
    result = CliRunner().invoke(catalog_app, ["import"])
    assert result.exit_code == 2
