"""Command-line commands of the guide domain: ``onewindow bench guide``."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from onewindow.cli_support import bench_app, echo_json, fail, user_errors
from onewindow.core.errors import Problem, ValidationFailed

if TYPE_CHECKING:  # jieba, OpenCC and pypinyin load only when a guide command runs
    from onewindow.guide.search import GuideIndex


@dataclass(frozen=True)
class BenchQuestion:
    """One line of a benchmark file: the question and the codes that count as a right answer."""

    line: int
    query: str
    expected: frozenset[str]


def load_catalog_dict(path: Path | None = None) -> dict[str, Any]:
    """The catalog to search, as a dict in the reference JSON shape (the shipped one by default)."""
    if path is None:
        text = resources.files("onewindow").joinpath("data/catalog-reference.json").read_text(encoding="utf-8")
    else:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationFailed([Problem("catalog", "bad_encoding", f"目录文件不是 UTF-8 编码：{path}")]) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed([Problem("catalog", "bad_json", f"目录文件不是有效的 JSON：第{exc.lineno}行")]) from exc
    if not isinstance(data, dict):
        raise ValidationFailed([Problem("catalog", "bad_json", "目录文件必须是 JSON 对象")])
    return data


def parse_questions(text: str) -> list[BenchQuestion]:
    """Parse a UTF-8 TSV of ``query<TAB>expected`` lines (expected codes separated by ``|``)."""
    questions: list[BenchQuestion] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise ValidationFailed([Problem(f"第{number}行", "bad_tsv_line",
                                            "格式应为“问题<TAB>期望编码”，多个编码用 | 分隔")])
        expected = frozenset(c.strip() for c in parts[1].split("|") if c.strip())
        if not expected:
            raise ValidationFailed([Problem(f"第{number}行", "bad_tsv_line", "缺少期望的事项或一件事编码")])
        questions.append(BenchQuestion(number, parts[0].strip(), expected))
    return questions


def run_bench(index: GuideIndex, questions: list[BenchQuestion]) -> dict[str, Any]:
    """Top-1 and top-3 hit rates and the 95th percentile search time over the questions."""
    top1 = top3 = 0
    times: list[float] = []
    misses: list[dict[str, Any]] = []
    for q in questions:
        started = time.perf_counter()
        result = index.search(q.query, limit=3)
        times.append((time.perf_counter() - started) * 1000)
        codes = [h.code for h in result.hits]
        if codes[:1] and codes[0] in q.expected:
            top1 += 1
        if any(c in q.expected for c in codes[:3]):
            top3 += 1
        else:
            misses.append({"line": q.line, "query": q.query, "expected": sorted(q.expected), "got": codes})
    n = len(questions)
    times.sort()
    p95 = times[max(0, math.ceil(0.95 * n) - 1)] if times else 0.0
    return {"queries": n, "top1": round(top1 / n, 4) if n else 0.0, "top3": round(top3 / n, 4) if n else 0.0,
            "p95_ms": round(p95, 2), "misses": misses}


def _index_from_file(path: Path | None) -> GuideIndex:
    """The index over a catalog JSON file (the shipped reference catalog by default)."""
    from onewindow.guide.documents import documents_from_catalog
    from onewindow.guide.search import GuideIndex
    from onewindow.guide.synonyms import load_default_synonyms

    return GuideIndex.build(documents_from_catalog(load_catalog_dict(path)), synonyms=load_default_synonyms())


def _index_from_database() -> GuideIndex:
    """The index over the catalog loaded in the configured database (the shipped one if it is empty)."""
    from sqlalchemy import func, select

    from onewindow.catalog.models import Item
    from onewindow.cli_support import open_database
    from onewindow.guide import service as guide_service

    _engine, factory = open_database(quiet=True)
    with factory() as session:
        if not session.scalar(select(func.count()).select_from(Item)):
            typer.echo("数据库中没有事项，改用内置参考目录（可先运行 onewindow demo load）", err=True)
            return _index_from_file(None)
        return guide_service.build_index(session)


@bench_app.command("guide")
@user_errors
def bench_guide(
    queries: Path = typer.Option(..., "--queries", help="UTF-8 TSV：问题<TAB>期望编码（多个用 | 分隔）"),
    as_json: bool = typer.Option(False, "--json", help="只输出 JSON"),
    catalog: Path | None = typer.Option(None, "--catalog", help="目录 JSON 文件（默认：数据库中已加载的目录）"),
) -> None:
    """智能导办检索基准：top-1、top-3 命中率和 p95 耗时。"""
    try:
        text = queries.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(f"问题文件不是 UTF-8 编码：{queries}")
    questions = parse_questions(text)
    if not questions:
        fail(f"问题文件为空：{queries}")
    started = time.perf_counter()
    index = _index_from_file(catalog) if catalog is not None else _index_from_database()
    build_ms = (time.perf_counter() - started) * 1000
    report = run_bench(index, questions)
    if as_json:
        echo_json({k: report[k] for k in ("queries", "top1", "top3", "p95_ms")})
        return
    typer.echo(f"问题数 {report['queries']}  top-1 {report['top1']:.1%}  top-3 {report['top3']:.1%}  "
               f"p95 {report['p95_ms']:.1f} ms  建索引 {build_ms:.0f} ms（{index.size} 个事项和一件事）")
    for miss in report["misses"]:
        typer.echo(f"  未命中 第{miss['line']}行 {miss['query']}：期望 {'|'.join(miss['expected'])}，"
                   f"得到 {', '.join(miss['got']) or '无'}")
