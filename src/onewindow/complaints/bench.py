"""12345 import benchmark (``onewindow bench complaints``): import N hotline orders from a CSV file, then sweep.

A fresh database gets the reference catalog of the demo county (its departments are the 承办单位 the orders
name; nothing else of the demo is needed). A CSV of ``orders``
synthetic 12345 orders is written to a temporary file: accepted over the ``days`` days before the benchmark day,
every category, one in twenty urgent, seven in ten already assigned to a department by the hotline. Then, each
in its own transaction as in production and timed wall-clock:

- the import: read the file, check every row, write every order (all or nothing), as ``onewindow complaints
  import`` does;
- the overdue sweep (催办) over all of them at 10:00 on the benchmark day.

The JSON report: ``{"orders", "import_seconds", "sweep_seconds"}`` plus the backend, what the import created
and dispatched, and how many orders the sweep urged.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from onewindow import db
from onewindow.catalog.models import Department
from onewindow.complaints import hotline, importer
from onewindow.complaints.rules import Limits
from onewindow.complaints.states import Category
from onewindow.complaints.sweep import sweep_overdue
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, FixedClock

SUBJECTS = (
    ("小区垃圾清运不及时", "小区门口垃圾桶满溢多日无人清运，夏季气味很大。"),
    ("路灯损坏夜间出行不便", "主干道路灯连续多盏不亮，晚上出行存在安全隐患。"),
    ("营业执照变更材料反复补交", "办理营业执照变更时多次被要求补交不同材料，希望一次性告知。"),
    ("医保报销进度咨询", "上月提交的医疗费用报销至今未到账，想了解办理进度。"),
    ("噪音扰民", "附近工地夜间施工噪音很大，影响休息。"),
    ("建议延长周末办理时间", "上班族工作日没有时间，建议周末也能办理社保业务。"),
    ("占道经营影响通行", "商户在人行道摆摊经营，行人只能走机动车道。"),
    ("供暖温度不达标", "家中暖气温度不到十五度，已多次反映。"),
)
URGENT_SHARE = 0.05
DISPATCHED_SHARE = 0.7


def write_orders(path: Path, *, orders: int, on: dt.date, days: int, departments: list[str], seed: int) -> None:
    """A CSV of ``orders`` synthetic 12345 orders accepted in the ``days`` days before ``on``."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
    categories = [c.label for c in Category]
    rows: list[dict[str, Any]] = []
    for i in range(orders):
        accepted = dt.datetime.combine(on - dt.timedelta(days=rng.randint(1, days)), dt.time(8), tzinfo=CHINA_TZ) \
            + dt.timedelta(minutes=rng.randint(0, 600))
        subject, content = rng.choice(SUBJECTS)
        rows.append({
            "external_number": f"12345-{accepted:%Y%m%d}-{i:07d}", "accepted_at": f"{accepted:%Y-%m-%d %H:%M}",
            "category": rng.choice(categories), "urgent": "是" if rng.random() < URGENT_SHARE else "否",
            "subject": subject, "content": content, "complainant_name": f"市民{i % 1000:03d}",
            "complainant_phone": f"139{rng.randint(0, 99_999_999):08d}", "anonymous": "否",
            "department": rng.choice(departments) if rng.random() < DISPATCHED_SHARE else ""})
    path.write_text(hotline.to_csv(rows), encoding="utf-8")


def run(engine: Engine, *, orders: int, on: dt.date, days: int, seed: int, workdir: Path) -> dict[str, Any]:
    """Load the reference catalog, import ``orders`` orders from CSV, sweep; the JSON report."""
    from onewindow.county_file import import_catalog
    from onewindow.demo import reference_catalog

    factory = db.make_session_factory(engine)
    clock = FixedClock(dt.datetime.combine(on, dt.time(10), tzinfo=CHINA_TZ))
    with db.transaction(factory) as s:
        import_catalog(s, clock=clock, actor=Actor(None, "bench"), data=reference_catalog())
        departments = list(s.scalars(select(Department.code).order_by(Department.id)))
    path = workdir / "12345-orders.csv"
    write_orders(path, orders=orders, on=on, days=days, departments=departments, seed=seed)
    limits = Limits()

    started = time.perf_counter()
    data = path.read_bytes()
    raw = hotline.read_bytes(data, path.name)
    with db.transaction(factory) as s:
        result = importer.import_orders(s, clock=clock, user=None, raw=raw, content=data, limits=limits,
                                        source=path.name)
    import_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with db.transaction(factory) as s:
        urged = sweep_overdue(s, clock=clock, limits_=limits)
    sweep_seconds = time.perf_counter() - started
    return {"orders": orders, "import_seconds": round(import_seconds, 2), "sweep_seconds": round(sweep_seconds, 2),
            "backend": engine.dialect.name, "created": result.created, "dispatched": result.dispatched,
            "skipped": result.skipped, "urged": urged}
