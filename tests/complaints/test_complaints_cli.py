"""``onewindow complaints import`` run as the real command, and ``onewindow bench complaints`` on a small load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from onewindow import db
from onewindow.cli import app
from onewindow.complaints import hotline

CLI = [sys.executable, "-c", "from onewindow.cli import main; main()"]
ROW = {"accepted_at": "2026-11-20 09:15", "category": "投诉", "subject": "窗口排队时间过长",
       "content": "周一上午排队两小时。", "complainant_name": "李女士", "complainant_phone": "13912345678"}


@pytest.fixture
def db_url(databases: Any) -> str:
    """A fresh, not yet migrated database (dropped at the end of the run)."""
    url: str = databases.new_url("complaints-cli")
    databases.created.append((url, db.make_engine(url)))
    return url


def _run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ONEWINDOW_DATABASE_URL": db_url}
    return subprocess.run([*CLI, "complaints", *args], env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_import_then_import_again_then_a_bad_file(db_url: str, tmp_path: Path) -> None:
    good = tmp_path / "12345.csv"
    good.write_text(hotline.to_csv([{**ROW, "external_number": f"CLI-{i}"} for i in range(3)]), encoding="utf-8")
    first = _run(db_url, "import", str(good), "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["created"] == 3
    again = _run(db_url, "import", str(good))
    assert again.returncode == 0, again.stderr
    assert "新增 0" in again.stdout and "跳过已导入 3" in again.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{**ROW, "external_number": "CLI-9"}, {**ROW, "external_number": "CLI-10",
                                                                      "category": "闲聊"}], ensure_ascii=False),
                   encoding="utf-8")
    refused = _run(db_url, "import", str(bad))
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [
        "错误：rows[2].category: 第 2 行（诉求类型）：诉求类型“闲聊”无效（咨询 / 求助 / 建议 / 投诉 / 举报）"
        " [category_unknown]"]


def test_bench_complaints_prints_its_json_report() -> None:
    result = CliRunner().invoke(app, ["bench", "complaints", "--orders", "300", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["orders"] == report["created"] == 300 and report["skipped"] == 0
    assert {"import_seconds", "sweep_seconds"} <= set(report) and 0 < report["urged"] <= 300
