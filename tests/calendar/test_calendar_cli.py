"""``onewindow calendar import|show`` on a fresh SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onewindow.calendar import cli as _calendar_cli  # noqa: F401  (registers ``calendar`` on ``app``)
from onewindow.cli_support import app
from onewindow.config import get_settings

NOTICE = """date,kind,name
2027-01-01,休,元旦
2027-02-05,休,春节
2027-02-20,班,春节调休上班
"""


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_import_then_show_marks_the_year_official(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "2027.csv"
    path.write_text(NOTICE, encoding="utf-8")
    before = runner.invoke(app, ["calendar", "show", "2027"], terminal_width=200)
    assert before.exit_code == 0, before.output
    assert "暂定" in before.stdout and "农历除夕" in before.stdout
    result = runner.invoke(app, ["calendar", "import", str(path), "--year", "2027", "--title", "2027年通知"])
    assert result.exit_code == 0, result.output
    assert "放假 2 天，调休上班 1 天" in result.stdout
    after = runner.invoke(app, ["calendar", "show", "2027"], terminal_width=200)
    assert "正式（已导入通知：2027年通知）" in after.stdout
    assert "春节调休上班" in after.stdout and "农历除夕" not in after.stdout


def test_import_errors_are_one_line_each_with_exit_1(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("date,kind,name\n2026-12-31,休,元旦\n2027-01-01,X,元旦\n", encoding="utf-8")
    result = runner.invoke(app, ["calendar", "import", str(path), "--year", "2027", "--title", "通知"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("错误：")]
    assert lines == [
        "错误：row 2: 日期 2026-12-31 不在 2027 年内 [date_outside_year]",
        "错误：row 3: 类型“X”无效，应为 休 或 班（也可写 holiday / workday） [invalid_kind]",
    ]
    missing = runner.invoke(app, ["calendar", "import", str(tmp_path / "nope.csv"), "--year", "2027",
                                  "--title", "通知"])
    assert missing.exit_code == 1 and "文件不存在" in missing.stderr
    no_year = runner.invoke(app, ["calendar", "import", str(path), "--title", "通知"])
    assert no_year.exit_code == 1 and "--year" in no_year.stderr
