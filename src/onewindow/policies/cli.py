"""Command-line commands of the policies domain: ``onewindow entities import`` and ``onewindow bench policies``."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import typer

from onewindow.cli_support import CLI_ACTOR, app, bench_app, database_session, echo_json, user_errors
from onewindow.core.clock import SystemClock, today

entities_app = typer.Typer(help="免申即享主体库（企业、个人）", no_args_is_help=True)
app.add_typer(entities_app, name="entities")


@entities_app.command("import", help="从 CSV / Parquet / Excel 导入主体；先校验全部行，有任何错误则不写入")
@user_errors
def import_entities(
    file: Path = typer.Argument(..., help="文件：.csv（UTF-8）、.parquet 或 .xlsx（第一个工作表）"),
    kind: str = typer.Option(..., "--kind", help="主体类型：enterprise（企业）/ person（个人）"),
    offer: bool = typer.Option(True, "--offer/--no-offer", help="导入后为新的匹配生成待确认邀约"),
) -> None:
    """Validate every row (checksums, types, columns, duplicates), then write them all, or nothing."""
    from onewindow.policies import service
    from onewindow.policies.register_files import read_table

    service.check_kind(kind)
    header, rows = read_table(file)
    clock = SystemClock()
    with database_session() as session:
        result = service.import_entities(session, clock=clock, actor=CLI_ACTOR, kind=kind, header=header, rows=rows)
        offered = (service.offer_matches(session, clock=clock, actor=CLI_ACTOR, cache=service.MatcherCache())
                   if offer else 0)
    typer.echo(f"导入完成：新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}；新邀约 {offered}")

KINDS = ("mixed", "enterprise", "person")
ENTERPRISE_SHARE = 0.3  # of a mixed register; policies split like the reference catalog's


@bench_app.command("policies", help="免申即享匹配基准：生成合成主体库与政策，完整匹配并与逐个主体的朴素计算比较")
def bench_policies(
    *,
    entities: int = typer.Option(1_000_000, "--entities", min=1, help="主体数量"),
    policies: int = typer.Option(200, "--policies", min=1, help="政策数量"),
    seed: int = typer.Option(0, "--seed", help="随机种子"),
    kind: str = typer.Option("mixed", "--kind", help="主体类型：mixed（企业与个人）/ enterprise / person"),
    runs: int = typer.Option(3, "--runs", min=1, help="完整匹配运行次数，取最快一次"),
    sample: int = typer.Option(2000, "--sample", min=1, help="逐个主体朴素计算的抽样数量"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Match N synthetic policies over a synthetic register; report time, matches and speedup."""
    if kind not in KINDS:
        raise typer.BadParameter(f"可用：{' / '.join(KINDS)}", param_hint="--kind")
    result = run_benchmark(entities=entities, policies=policies, seed=seed, kind=kind, runs=runs,
                           sample=sample, on=today(SystemClock()))
    if as_json:
        echo_json(result)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="免申即享匹配基准")
    table.add_column("指标")
    table.add_column("数值", justify="right")
    labels = {
        "entities": "主体数", "policies": "政策数", "seconds": "完整匹配耗时（秒，最快一次）",
        "matches": "匹配（主体, 政策）对数", "naive_seconds_per_1000": "朴素计算每千主体耗时（秒）",
        "speedup": "加速比", "pairs": "核验（主体, 政策）对数", "runs": "运行次数", "agree": "抽样结果一致",
    }
    for key, label in labels.items():
        table.add_row(label, str(result[key]))
    Console().print(table)


def run_benchmark(*, entities: int, policies: int, seed: int, kind: str, runs: int, sample: int,
                  on: dt.date) -> dict[str, Any]:
    """Generate the register and policies, time the vectorised full match and the naive sample."""
    from onewindow.policies import synthetic
    from onewindow.policies.conditions import field_defs
    from onewindow.policies.matcher import Matcher, match_entity, rules_from_json

    catalog = synthetic.reference_catalog()
    fields_by_kind = {k: field_defs(v) for k, v in catalog["entity_fields"].items()}
    kinds = ["enterprise", "person"] if kind == "mixed" else [kind]
    if kind == "mixed":
        n_enterprises = round(entities * ENTERPRISE_SHARE)
        share = sum(p["audience"] == "enterprise" for p in catalog["policies"]) / len(catalog["policies"])
        p_enterprises = round(policies * share)
        sizes = {"enterprise": (n_enterprises, p_enterprises), "person": (entities - n_enterprises,
                                                                          policies - p_enterprises)}
    else:
        sizes = {kind: (entities, policies)}
    matchers = []
    for k in kinds:
        n, p = sizes[k]
        register = synthetic.register(k, n, fields_by_kind[k], seed=seed)
        raw = synthetic.policies(p, catalog["policies"], fields_by_kind, today=on, seed=seed, audience=k)
        matchers.append(Matcher(register, rules_from_json(raw, fields_by_kind), on))

    best = float("inf")
    matches = 0
    results = []
    for _ in range(runs):
        start = time.perf_counter()
        results = [m.match_all() for m in matchers]
        best = min(best, time.perf_counter() - start)
        matches = sum(r.count() for r in results)

    # naive: plain per-entity Python over the same rules, on a sample spread over the register
    per_kind = {m.register.kind: max(1, round(sample * len(m.register) / entities)) for m in matchers}
    naive_seconds = 0.0
    sampled = 0
    agree = True
    for m, res in zip(matchers, results, strict=True):
        step = max(1, len(m.register) // per_kind[m.register.kind])
        rows = list(range(0, len(m.register), step))[: per_kind[m.register.kind]]
        records = list(m.register.records(rows))
        start = time.perf_counter()
        naive = [match_entity(m.rules, rec, kind=m.register.kind, today=on) for rec in records]
        naive_seconds += time.perf_counter() - start
        sampled += len(rows)
        agree = agree and all(res.policies_of(row) == codes for row, codes in zip(rows, naive, strict=True))
    # per-kind samples are proportional to the register's mix, so this is the mix's average
    naive_per_1000 = naive_seconds / sampled * 1000
    return {
        "entities": entities,
        "policies": sum(len(m.rules) for m in matchers),
        "seconds": round(best, 4),
        "matches": matches,
        "naive_seconds_per_1000": round(naive_per_1000, 4),
        "speedup": round(naive_per_1000 * entities / 1000 / best, 1),
        "runs": runs,
        "kind": kind,
        "pairs": sum(len(m.register) * len(m.rules) for m in matchers),
        "naive_sample": sampled,
        "agree": agree,
        "seed": seed,
    }
