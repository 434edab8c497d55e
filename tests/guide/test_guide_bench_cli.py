"""``onewindow bench guide``: the TSV format, the JSON report and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from onewindow.cli_support import app
from onewindow.guide import cli as guide_cli  # noqa: F401 - registers the command
from onewindow.guide.cli import parse_questions

runner = CliRunner()
BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_the_bench_prints_top1_top3_mrr_and_p95_per_set_as_json(tmp_path: Path) -> None:
    first, second = tmp_path / "a.tsv", tmp_path / "b.tsv"
    first.write_text("孩子刚出生要办什么\tYJS-NEWBORN\n社保卡丢了\t410724-RSJ-GG-001|X\n", encoding="utf-8")
    second.write_text("结婚登记\t410724-MZJ-QR-001\n", encoding="utf-8")
    result = runner.invoke(app, ["bench", "guide", "--queries", str(first), "--queries", str(second),
                                 "--mode", "lexical", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [(s["file"], s["mode"]) for s in report["sets"]] == [("a.tsv", "lexical"), ("b.tsv", "lexical")]
    a = report["sets"][0]
    assert set(a) == {"file", "mode", "queries", "top1", "top3", "mrr", "p95_ms", "p95_cpu_ms"}
    assert a["queries"] == 2 and a["top1"] == 1.0 and a["top3"] == 1.0 and a["mrr"] == 1.0
    assert report["model"] == {"semantic": False}


def test_an_unknown_mode_is_a_one_line_error(tmp_path: Path) -> None:
    tsv = tmp_path / "q.tsv"
    tsv.write_text("结婚登记\t410724-MZJ-QR-001\n", encoding="utf-8")
    result = runner.invoke(app, ["bench", "guide", "--queries", str(tsv), "--mode", "magic"])
    assert result.exit_code == 1
    assert "--mode" in result.stderr


def test_a_bad_tsv_line_is_named_in_one_line(tmp_path: Path) -> None:
    tsv = tmp_path / "q.tsv"
    tsv.write_text("孩子刚出生要办什么\tYJS-NEWBORN\n没有制表符的一行\n", encoding="utf-8")
    result = runner.invoke(app, ["bench", "guide", "--queries", str(tsv), "--mode", "lexical"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "第2行" in lines[0]


def test_a_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bench", "guide", "--queries", str(tmp_path / "nope.tsv")])
    assert result.exit_code == 1
    assert "文件不存在" in result.stderr


def test_the_shipped_question_sets_are_well_formed_and_large_enough() -> None:
    tuned = parse_questions((BENCH / "guide-questions.tsv").read_text(encoding="utf-8"))
    heldout = parse_questions((BENCH / "guide-heldout.tsv").read_text(encoding="utf-8"))
    assert len(tuned) >= 60 and len(heldout) >= 30
    assert not {q.query for q in tuned} & {q.query for q in heldout}


def test_the_bench_can_run_against_another_catalog_file(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({
        "departments": [{"code": "MZJ", "name": "民政局", "short_name": "民政"}],
        "items": [{"code": "T-1", "name": "婚姻登记（结婚登记）", "department": "MZJ", "keywords": ["领证"]}],
        "bundles": [],
    }, ensure_ascii=False), encoding="utf-8")
    tsv = tmp_path / "q.tsv"
    tsv.write_text("想领证结婚\tT-1\n", encoding="utf-8")
    result = runner.invoke(app, ["bench", "guide", "--queries", str(tsv), "--catalog", str(catalog), "--json",
                                 "--mode", "lexical"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sets"][0]["top1"] == 1.0


def test_a_catalog_that_is_not_json_is_a_one_line_error(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text("{not json", encoding="utf-8")
    tsv = tmp_path / "q.tsv"
    tsv.write_text("结婚\tT-1\n", encoding="utf-8")
    result = runner.invoke(app, ["bench", "guide", "--queries", str(tsv), "--catalog", str(catalog)])
    assert result.exit_code == 1
    assert "JSON" in result.stderr


def test_a_file_that_is_not_utf8_is_a_one_line_error(tmp_path: Path) -> None:
    tsv = tmp_path / "q.tsv"
    tsv.write_bytes("结婚登记\t410724-MZJ-QR-001\n".encode("gb18030"))
    result = runner.invoke(app, ["bench", "guide", "--queries", str(tsv)])
    assert result.exit_code == 1
    assert "UTF-8" in result.stderr
