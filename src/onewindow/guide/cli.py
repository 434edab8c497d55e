"""Command-line commands of the guide domain: ``onewindow bench guide``."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import typer

from onewindow.cli_support import bench_app, echo_json, fail, user_errors
from onewindow.core.errors import Problem, ValidationFailed

if TYPE_CHECKING:  # jieba, OpenCC, pypinyin and the model load only when a guide command runs
    from onewindow.guide.documents import GuideDocument
    from onewindow.guide.search import GuideIndex, SearchResult
    from onewindow.guide.semantic import Encoder
    from onewindow.guide.service import GuideSearch


class Searcher(Protocol):
    """Anything that answers a question with ranked hits (the lexical or the hybrid search)."""

    def search(self, query: str, limit: int = 10) -> SearchResult:
        """Ranked hits."""
        ...


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


def run_bench(searcher: Searcher, questions: list[BenchQuestion]) -> dict[str, Any]:
    """Top-1 and top-3 hit rates, mean reciprocal rank (first 10) and the 95th percentile search time.

    The time is wall time (what a visitor waits) and, beside it, the process's CPU time (what the search
    costs, whatever else the machine is running).
    """
    top1 = top3 = 0
    reciprocal = 0.0
    times: list[float] = []
    cpu_times: list[float] = []
    misses: list[dict[str, Any]] = []
    for q in questions:
        started, cpu_started = time.perf_counter(), time.process_time()
        result = searcher.search(q.query, limit=10)
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.process_time() - cpu_started) * 1000)
        codes = [h.code for h in result.hits]
        rank = next((r for r, c in enumerate(codes, start=1) if c in q.expected), None)
        if rank == 1:
            top1 += 1
        if rank is not None and rank <= 3:
            top3 += 1
        else:
            misses.append({"line": q.line, "query": q.query, "expected": sorted(q.expected), "got": codes[:3]})
        reciprocal += 1 / rank if rank else 0.0
    n = len(questions)
    return {"queries": n, "top1": round(top1 / n, 4) if n else 0.0, "top3": round(top3 / n, 4) if n else 0.0,
            "mrr": round(reciprocal / n, 4) if n else 0.0, "p95_ms": round(_p95(times), 2),
            "p95_cpu_ms": round(_p95(cpu_times), 2), "misses": misses}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] if ordered else 0.0


def rss_mb() -> float:
    """This process's resident memory in MB (Linux /proc; peak RSS elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _catalog_docs(path: Path | None) -> tuple[list[GuideDocument], dict[str, Any]]:
    from onewindow.guide.documents import documents_from_catalog
    from onewindow.guide.synonyms import load_default_synonyms

    return documents_from_catalog(load_catalog_dict(path)), load_default_synonyms()


def _index_from_file(path: Path | None) -> GuideIndex:
    """The index over a catalog JSON file (the shipped reference catalog by default)."""
    from onewindow.guide.search import GuideIndex

    docs, synonyms = _catalog_docs(path)
    return GuideIndex.build(docs, synonyms=synonyms)


def _searches(catalog: Path | None, semantic_wanted: bool, threads: int) -> tuple[GuideSearch, dict[str, Any]]:
    """The search to measure (from a catalog file, or the database) and what loading the model cost."""
    from onewindow.guide import semantic
    from onewindow.guide.service import GuideSearch

    model: dict[str, Any] = {"semantic": False}
    before = rss_mb()
    started = time.perf_counter()
    encoder = semantic.load_encoder(threads) if semantic_wanted else None
    if catalog is not None or not _database_has_items():
        if catalog is None:
            typer.echo("数据库中没有事项，改用内置参考目录（可先运行 onewindow demo load）", err=True)
        docs, synonyms = _catalog_docs(catalog)
        from onewindow.guide.search import GuideIndex

        index = GuideIndex.build(docs, synonyms=synonyms)
        dense = None
        if encoder is not None:
            dense, _ = semantic.SemanticIndex.build(docs, encoder=encoder, life_events=synonyms["life_events"],
                                                    situations=synonyms.get("situations", {}))
        built = GuideSearch(index, dense)
    else:
        built = _search_from_database(encoder)
    if encoder is not None:
        built.search("孩子出生要办什么")  # the first encode touches the whole model
        model = {"semantic": True, "model": encoder.model_id, "rss_before_mb": before, "rss_after_mb": rss_mb(),
                 "load_ms": round((time.perf_counter() - started) * 1000)}
    elif semantic_wanted:
        model["unavailable"] = "语义模型不可用，仅关键词检索"
    return built, model


def _database_has_items() -> bool:
    from sqlalchemy import func, select

    from onewindow.catalog.models import Item
    from onewindow.cli_support import open_database

    _engine, factory = open_database(quiet=True)
    with factory() as session:
        return bool(session.scalar(select(func.count()).select_from(Item)))


def _search_from_database(encoder: Encoder | None) -> GuideSearch:
    """The search over the catalog loaded in the configured database (vectors stored there)."""
    from onewindow.cli_support import open_database
    from onewindow.core.clock import SystemClock
    from onewindow.guide import service as guide_service

    _engine, factory = open_database(quiet=True)
    with factory() as session, session.begin():
        return guide_service.build_search(session, clock=SystemClock(), encoder=encoder)


MODES = ("hybrid", "lexical", "both")


@bench_app.command("guide")
@user_errors
def bench_guide(
    queries: list[Path] = typer.Option(..., "--queries", help="UTF-8 TSV：问题<TAB>期望编码（多个用 | 分隔）；可重复"),
    as_json: bool = typer.Option(False, "--json", help="只输出 JSON"),
    catalog: Path | None = typer.Option(None, "--catalog", help="目录 JSON 文件（默认：数据库中已加载的目录）"),
    mode: str = typer.Option("both", "--mode", help="hybrid（关键词+语义）、lexical（仅关键词）或 both（两者对照）"),
    misses: bool = typer.Option(False, "--misses", help="列出前三名未命中的问题"),
) -> None:
    """智能导办检索基准：每个问题集的 top-1、top-3、MRR 和 p95 耗时，以及语义模型占用的内存。"""
    if mode not in MODES:
        fail(f"--mode 只能是 {'、'.join(MODES)}")
    sets: list[tuple[Path, list[BenchQuestion]]] = []
    for path in queries:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            fail(f"问题文件不是 UTF-8 编码：{path}")
        questions = parse_questions(text)
        if not questions:
            fail(f"问题文件为空：{path}")
        sets.append((path, questions))
    from onewindow.config import get_settings

    settings = get_settings()
    built, model = _searches(catalog, mode != "lexical", settings.guide_semantic_threads)
    from onewindow.guide.service import GuideSearch

    searchers: list[tuple[str, Searcher]] = []
    if mode in ("lexical", "both") or not built.semantic:
        searchers.append(("lexical", GuideSearch(built.index)))
    if mode in ("hybrid", "both") and built.semantic:
        searchers.append(("hybrid", built))
    rows = []
    for path, questions in sets:
        for name, searcher in searchers:
            report = run_bench(searcher, questions)
            rows.append({"file": path.name, "mode": name, **report})
    if as_json:
        echo_json({"sets": [{k: v for k, v in r.items() if k != "misses"} for r in rows],
                   "documents": built.index.size, "model": model})
        return
    for r in rows:
        typer.echo(f"{r['file']}  {r['mode']:<7}  问题数 {r['queries']}  top-1 {r['top1']:.1%}  "
                   f"top-3 {r['top3']:.1%}  MRR {r['mrr']:.3f}  p95 {r['p95_ms']:.1f} ms"
                   f"（CPU {r['p95_cpu_ms']:.1f} ms）")
        if misses:
            for miss in r["misses"]:
                typer.echo(f"  未命中 第{miss['line']}行 {miss['query']}：期望 {'|'.join(miss['expected'])}，"
                           f"得到 {', '.join(miss['got']) or '无'}")
    if model.get("semantic"):
        typer.echo(f"语义模型 {model['model']}：加载和建索引 {model['load_ms']} ms，常驻内存 "
                   f"{model['rss_before_mb']:.0f} MB → {model['rss_after_mb']:.0f} MB"
                   f"（+{model['rss_after_mb'] - model['rss_before_mb']:.0f} MB）；{built.index.size} 个事项和一件事")
    elif "unavailable" in model:
        typer.echo(model["unavailable"])
